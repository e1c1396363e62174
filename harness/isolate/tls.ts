import { makeTempDir } from '../run/temp-dirs.ts';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { onExit } from '../run/on-exit.ts';

/**
 * TLS as the job meets it on the internet: a certificate authority made once per sweep, and a
 * certificate per host (subject alternative name = the host) that it signed. The job trusts the
 * CA through the variables its runtime reads (`trustEnvironment`), so its client verifies the
 * servers as it would in production, with no code change. Keys are ECDSA P-256, which the
 * `openssl` command line makes in milliseconds; it is on every Linux that has namespaces.
 */
export interface Certificates {
  /** The directory holding every file below; removed with `remove()` or when the process ends. */
  readonly dir: string;
  /** The CA certificate (PEM) the job is told to trust. */
  readonly caFile: string;
  /** The certificate and key files of a host passed to `createCertificates`. */
  leaf(host: string): { certFile: string; keyFile: string };
  remove(): void;
}

const VALID_DAYS = '2';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`);
  }
}

/** A CA and one certificate per host, in a fresh temporary directory. */
export function createCertificates(hosts: readonly string[]): Certificates {
  const dir = makeTempDir('tls');
  const cancel = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const leaves = new Map<string, { certFile: string; keyFile: string }>();
  try {
    openssl([
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      VALID_DAYS,
      '-subj',
      '/CN=fanout-tuner sweep CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    hosts.forEach((host, index) => {
      const certFile = join(dir, `host-${index}.pem`);
      const keyFile = join(dir, `host-${index}.key`);
      openssl([
        'req',
        '-x509',
        ...EC_KEY,
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        VALID_DAYS,
        '-subj',
        `/CN=${host}`,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-addext',
        `subjectAltName=DNS:${host}`,
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ]);
      leaves.set(host, { certFile, keyFile });
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    cancel();
    throw error;
  }
  return {
    dir,
    caFile,
    leaf(host) {
      const leaf = leaves.get(host);
      if (!leaf) throw new Error(`no certificate was made for ${host}`);
      return leaf;
    },
    remove() {
      cancel();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The variables through which each runtime's usual clients find a CA: Node (NODE_EXTRA_CA_CERTS,
 * added to its built-in roots), Python requests (REQUESTS_CA_BUNDLE; it ignores SSL_CERT_FILE),
 * httpx, Go and OpenSSL (SSL_CERT_FILE), curl (CURL_CA_BUNDLE).
 */
export function trustEnvironment(caFile: string): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: caFile,
    SSL_CERT_FILE: caFile,
    REQUESTS_CA_BUNDLE: caFile,
    CURL_CA_BUNDLE: caFile,
  };
}
