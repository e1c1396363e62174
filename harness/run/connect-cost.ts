import { median } from '../analyze/statistics.ts';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { mainThreadCpuClock, processCpuMs } from './thread-cpu.ts';

/**
 * The client's CPU per new connection (docs/job-model.md, Connections: `connectCpuMs`), timed on
 * this machine once per sweep, as harness/run/parse-cost.ts times the parse: what a fresh
 * connection (TCP connect, TLS handshake on https, and its close) costs the job's event loop beyond
 * a request on a kept-alive one.
 */

export interface ConnectCostOptions {
  library: 'fetch' | 'undici';
  tls: boolean;
  /** New connections to time (default 100, rounded up to whole blocks of 20), against as many requests on a kept-alive connection. */
  connections?: number;
  /**
   * Whether a new TLS connection may resume a session of an earlier one (default true): undici
   * caches sessions per origin, so the job's new connections to a host after its first mostly do.
   * false times full handshakes.
   */
  resumeSessions?: boolean;
}

export interface ConnectCost {
  /** ms of client CPU per new connection, on this machine's core. */
  connectCpuMs: number;
  /**
   * The part of it spent opening the connection: the socket and the start of the handshake, done
   * when the request is issued, before the event loop handles any I/O (the rest follows the
   * server's answers).
   */
  openCpuMs: number;
  connections: number;
}

const SERVER_NAME = 'connect.example';
/** Blocks sent before timing: the JIT warms up on 100 requests of each kind. */
const WARMUP_BLOCKS = 5;
/** Requests timed together (see timedBlock). */
const BLOCK = 20;

/**
 * The server runs in a child process so that its CPU (accept, the server's half of the
 * handshake, the answers) is not in this process's CPU time. `/close` answers with
 * `Connection: close`, so the next request needs a new connection, as against a host with
 * keepAlive false; `/keep` keeps the connection. CommonJS in -e: no loader needed.
 */
const SERVER_SOURCE = `
const key = process.env.CONNECT_COST_KEY;
const cert = process.env.CONNECT_COST_CERT;
const handler = (req, res) => {
  if (req.url === '/close') res.setHeader('connection', 'close');
  res.end('ok');
};
const server = key ? require('node:https').createServer({ key, cert }, handler) : require('node:http').createServer(handler);
// Long enough that the kept-alive connection never idles out between rounds.
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** A throwaway self-signed ECDSA P-256 certificate for connect.example, like the net backend's hosts. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-connect-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        `/CN=${SERVER_NAME}`,
        '-addext',
        `subjectAltName=DNS:${SERVER_NAME}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startServer(tls: { key: string; cert: string } | undefined): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...(tls ? { CONNECT_COST_KEY: tls.key, CONNECT_COST_CERT: tls.cert } : {}) },
  });
  const lines = createInterface({ input: child.stdout! });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the connect-cost server exited (code ${code}) before listening`)));
      lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    return { child, port };
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    lines.close();
  }
}

type Get = (path: '/close' | '/keep') => Promise<void>;

function client(library: ConnectCostOptions['library'], origin: string, dispatcher: Agent): Get {
  if (library === 'undici') {
    return async (path) => {
      const { body } = await request(origin + path, { dispatcher });
      await body.text();
    };
  }
  return async (path) => {
    // Node's global fetch takes a dispatcher of the undici package, whose types differ from the
    // bundled undici's that RequestInit names.
    const response = await fetch(origin + path, { dispatcher } as unknown as RequestInit);
    await response.arrayBuffer();
  };
}

export async function measureConnectCost(options: ConnectCostOptions): Promise<ConnectCost> {
  const connections = options.connections ?? 100;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be a positive integer, got ${connections}`);
  const tls = options.tls ? selfSignedCertificate() : undefined;
  const { child, port } = await startServer(tls);
  // A pool for each kind of request. With TLS, the fresh connections may resume the session their
  // pool caches, as the job's would. One pool for both does not keep its connection: once the
  // server has closed a fresh one, undici's Agent drops the origin's pool (idle connection and
  // all), so every kept request opened a connection too and the two kinds cost the same.
  const newAgent = () =>
    new Agent({
      keepAliveTimeout: 60_000,
      ...(tls ? { connect: { ca: tls.cert, servername: SERVER_NAME, ...(options.resumeSessions === false ? { maxCachedSessions: 0 } : {}) } } : {}),
    });
  const freshAgent = newAgent();
  const keptAgent = newAgent();
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const fresh = client(options.library, origin, freshAgent);
  const kept = client(options.library, origin, keptAgent);
  // The event loop's own CPU where Linux tells it: the connection's work is all on it, and V8's
  // helper threads (concurrent GC) only add noise.
  const clock = mainThreadCpuClock() ?? processCpuMs;
  // A block of requests of one kind, sent at once and timed together. At once, because that is how
  // a fan-out opens its connections (a worker each, at its start): the client's share of a
  // handshake costs less in a burst than alone (here about 1.5 ms each in a burst of 60, 2.0 in
  // one of 20, 3.0 one at a time). Together, because a thread's CPU clock moves in steps of a
  // millisecond or more on some kernels (gVisor's), coarser than one request.
  // The block's CPU until the event loop's first I/O callback (what issuing the requests cost: for
  // a fresh connection the socket and the start of its handshake), and in all.
  const timedBlock = async (kind: 'fresh' | 'kept'): Promise<{ issueMs: number; totalMs: number }> => {
    const start = clock();
    const answered = Promise.all(Array.from({ length: BLOCK }, () => (kind === 'fresh' ? fresh('/close') : kept('/keep'))));
    await new Promise((resolve) => setImmediate(resolve));
    const issued = clock();
    await answered;
    return { issueMs: issued - start, totalMs: clock() - start };
  };
  const extra: number[] = [];
  const extraOpening: number[] = [];
  try {
    // Warm both paths (V8 tiers up undici's parser and the TLS code), and leave BLOCK kept-alive
    // connections idle in their pool for the kept blocks. Every `/close` request finds no idle
    // connection (the server closed each one it answered), so it opens one; the `/keep` requests
    // reuse the same BLOCK.
    for (let i = 0; i < WARMUP_BLOCKS; i++) await timedBlock('fresh');
    for (let i = 0; i < WARMUP_BLOCKS; i++) await timedBlock('kept');
    // Fresh and kept blocks alternate, so the machine's drift (other processes) falls on both alike.
    for (let block = 0; block < Math.ceil(connections / BLOCK); block++) {
      const freshBlock = await timedBlock('fresh');
      const keptBlock = await timedBlock('kept');
      extra.push((freshBlock.totalMs - keptBlock.totalMs) / BLOCK);
      extraOpening.push((freshBlock.issueMs - keptBlock.issueMs) / BLOCK);
    }
    // The median over blocks: one block that a preemption or a garbage collection hit would
    // otherwise outweigh the others.
    const connectCpuMs = Math.max(0, median(extra));
    return { connectCpuMs, openCpuMs: Math.min(connectCpuMs, Math.max(0, median(extraOpening))), connections: Math.ceil(connections / BLOCK) * BLOCK };
  } finally {
    await Promise.all([freshAgent.close(), keptAgent.close()]);
    child.stdin!.end();
    child.kill();
  }
}
