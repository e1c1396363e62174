import { existsSync, readFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostsFileText, loopbackAddresses } from '../harness/isolate/addresses.ts';
import { nameErrorReply, questionName } from '../harness/isolate/dns.ts';
import { createCertificates, trustEnvironment, type Certificates } from '../harness/isolate/tls.ts';

/** A DNS query (RFC 1035): header (id, flags, counts), then the question's labels, QTYPE and QCLASS, then `rest`. */
function query(name: string, options: { id?: number; flags?: number; arcount?: number; rest?: number[] } = {}): Buffer {
  const header = [
    (options.id ?? 0x1234) >> 8,
    (options.id ?? 0x1234) & 255,
    (options.flags ?? 0x0100) >> 8,
    (options.flags ?? 0x0100) & 255,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    options.arcount ?? 0,
  ];
  const labels = name.split('.').flatMap((label) => [label.length, ...Buffer.from(label, 'latin1')]);
  return Buffer.from([...header, ...labels, 0, 0, 1, 0, 1, ...(options.rest ?? [])]);
}

/** api.Example.com's labels, QTYPE A, QCLASS IN. */
const QUESTION = [3, 0x61, 0x70, 0x69, 7, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0, 1, 0, 1];
/** An EDNS OPT record, as resolvers add to their queries. */
const OPT_RECORD = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0];

describe('the refusing name server', () => {
  it('reads the question name of a query, in lower case', () => {
    expect(questionName(query('api.Example.com'))).toBe('api.example.com');
  });

  it('answers a recursive query with its id, opcode and question, RA set, RCODE 3 (NXDOMAIN) and no records', () => {
    const reply = nameErrorReply(query('api.Example.com', { id: 0xbeef, flags: 0x0100 }));
    expect([...reply!]).toEqual([0xbe, 0xef, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, ...QUESTION]);
  });

  it('drops what follows the question (an EDNS OPT record) and its count, and keeps a non-zero opcode but not AA or TC', () => {
    // flags 0x0f00: opcode 1 (inverse query) with AA, TC and RD set.
    const reply = nameErrorReply(query('api.Example.com', { id: 7, flags: 0x0f00, arcount: 1, rest: OPT_RECORD }));
    expect([...reply!]).toEqual([0, 7, 0x89, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, ...QUESTION]);
  });

  it.each([
    ['shorter than a header', Buffer.from([0x12, 0x34, 1, 0, 0, 1])],
    ['a header and no question', Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])],
    ['a name cut short inside a label', query('api.example.com').subarray(0, 14)],
    ['a name without QTYPE and QCLASS', query('api.example.com').subarray(0, 29)],
    ['a compression pointer in the question name', Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1])],
    ['a label longer than 63 bytes', query(`${'a'.repeat(64)}.example`)],
  ])('finds no name in, and gives no reply to, %s', (_what, malformed) => {
    expect([questionName(malformed), nameErrorReply(malformed)]).toEqual([undefined, undefined]);
  });

  it('gives no reply to a response (QR set), so two name servers cannot answer each other forever', () => {
    const response = query('api.example.com', { flags: 0x8180 });
    expect([questionName(response), nameErrorReply(response)]).toEqual(['api.example.com', undefined]);
  });
});

describe('loopback addresses and the hosts file', () => {
  it('gives each host an address of its own on 127.1.0.0/16, in order, from 127.1.0.1', () => {
    expect([...loopbackAddresses(['api.example.com', 'cdn.example.net', 'db.internal'])]).toEqual([
      ['api.example.com', '127.1.0.1'],
      ['cdn.example.net', '127.1.0.2'],
      ['db.internal', '127.1.0.3'],
    ]);
  });

  it('carries into the third byte after 127.1.0.255, and ends at 127.1.255.254 for the most hosts it serves', () => {
    const many = loopbackAddresses(Array.from({ length: 65_534 }, (_, i) => `h${i}.example`));
    expect([many.get('h254.example'), many.get('h255.example'), many.get('h65533.example'), many.size]).toEqual([
      '127.1.0.255',
      '127.1.1.0',
      '127.1.255.254',
      65_534,
    ]);
  });

  it('refuses more hosts than the block holds, saying how many it has', () => {
    expect(() => loopbackAddresses(Array.from({ length: 65_535 }, (_, i) => `h${i}.example`))).toThrow(
      'at most 65534 hosts can be served, the scenario has 65535',
    );
  });

  it('writes a hosts file with localhost first and one line per host', () => {
    expect(hostsFileText(loopbackAddresses(['api.example.com', 'cdn.example.net']))).toBe(
      '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.1.0.1 api.example.com\n127.1.0.2 cdn.example.net\n',
    );
  });

  it('writes only localhost when there are no hosts (a fence without servers)', () => {
    expect(hostsFileText(loopbackAddresses([]))).toBe('127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');
  });
});

describe("the sweep's certificates", () => {
  let certificates: Certificates;
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    certificates = createCertificates(['a.example']);
    const leaf = certificates.leaf('a.example');
    server = createServer({ cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) }, (_request, response) => response.end('served by a.example'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    certificates.remove();
  });

  /** A GET to the server as `servername`, trusting the sweep's CA only (or, without `ca`, Node's built-in roots). */
  function fetchAs(servername: string, ca: Buffer | undefined): Promise<string> {
    return new Promise((resolve) => {
      get({ host: '127.0.0.1', port, servername, agent: false, ...(ca ? { ca } : {}) }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(`${response.statusCode} ${body}`));
      }).on('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code}`));
    });
  }

  it('serves a.example to a client that trusts only the CA file and asks for a.example', async () => {
    expect(await fetchAs('a.example', readFileSync(certificates.caFile))).toBe('200 served by a.example');
  });

  it('is refused by the same client asking for b.example: the certificate names a.example only', async () => {
    expect(await fetchAs('b.example', readFileSync(certificates.caFile))).toBe('refused: ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it("is refused by a client that trusts only Node's built-in roots", async () => {
    expect(await fetchAs('a.example', undefined)).toBe('refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('has no certificate for a host it was not asked for', () => {
    expect(() => certificates.leaf('b.example')).toThrow('no certificate was made for b.example');
  });

  it("tells every runtime's usual clients to trust the CA file", () => {
    expect(trustEnvironment('/tmp/ca.pem')).toEqual({
      NODE_EXTRA_CA_CERTS: '/tmp/ca.pem',
      SSL_CERT_FILE: '/tmp/ca.pem',
      REQUESTS_CA_BUNDLE: '/tmp/ca.pem',
      CURL_CA_BUNDLE: '/tmp/ca.pem',
    });
  });

  it('removes its directory when asked', () => {
    const other = createCertificates([]);
    expect(existsSync(other.caFile)).toBe(true);
    other.remove();
    expect(existsSync(other.dir)).toBe(false);
  });
});
