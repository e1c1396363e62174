import { median } from '../analyze/statistics.ts';
import { spawn, execFileSync } from 'node:child_process';
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
  /**
   * The part spent on the TLS hello, once the TCP connect is done and before the server can answer
   * (0 on plain HTTP, which sends nothing before its request).
   */
  helloCpuMs: number;
  /** The server's CPU per new connection: the accept, its half of the handshake, the close. */
  serverCpuMs: number;
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
 * keepAlive false; `/keep` keeps the connection. A second listener takes connections and their
 * first bytes (a TLS ClientHello) and never answers: once it has a block's worth of hellos it says
 * `hellos`. A `cpu` line on stdin asks for the server's CPU time so far. CommonJS in -e: no loader
 * needed.
 */
const SERVER_SOURCE = `
const key = process.env.CONNECT_COST_KEY;
const cert = process.env.CONNECT_COST_CERT;
const block = Number(process.env.CONNECT_COST_BLOCK);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
const handler = (req, res) => {
  if (req.url === '/close') res.setHeader('connection', 'close');
  res.end('ok');
};
const server = key ? require('node:https').createServer({ key, cert }, handler) : require('node:http').createServer(handler);
// Long enough that the kept-alive connection never idles out between rounds.
server.keepAliveTimeout = 60000;
let hellos = 0;
const silent = require('node:net').createServer((socket) => {
  socket.on('error', () => {});
  socket.once('data', () => {
    if (++hellos === block) {
      hellos = 0;
      say({ hellos: block });
    }
  });
});
server.listen(0, '127.0.0.1', () => silent.listen(0, '127.0.0.1', () => say({ port: server.address().port, silentPort: silent.address().port })));
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  const cpu = process.cpuUsage();
  say({ cpuMs: (cpu.user + cpu.system) / 1000 });
});
process.stdin.on('end', () => process.exit(0));
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

/** The child server: where to connect, and what to ask it. */
interface ConnectCostServer {
  port: number;
  /** The listener that takes TLS hellos and never answers. */
  silentPort: number;
  /** The server's CPU time so far, ms. */
  cpuMs(): Promise<number>;
  /** Resolves when the silent listener has had a block's worth of hellos since the last time. */
  hellos(): Promise<void>;
  stop(): void;
}

async function startServer(tls: { key: string; cert: string } | undefined): Promise<ConnectCostServer> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, CONNECT_COST_BLOCK: String(BLOCK), ...(tls ? { CONNECT_COST_KEY: tls.key, CONNECT_COST_CERT: tls.cert } : {}) },
  });
  const lines = createInterface({ input: child.stdout! });
  // Each kind of line answers the oldest waiter for it.
  const waiting = {
    port: [] as Array<(line: Record<string, number>) => void>,
    cpuMs: [] as Array<(line: Record<string, number>) => void>,
    hellos: [] as Array<(line: Record<string, number>) => void>,
  };
  lines.on('line', (text) => {
    const line = JSON.parse(text) as Record<string, number>;
    for (const key of ['port', 'cpuMs', 'hellos'] as const) if (key in line) waiting[key].shift()?.(line);
  });
  const next = (key: keyof typeof waiting) => new Promise<Record<string, number>>((resolve) => waiting[key].push(resolve));
  const stop = () => {
    lines.close();
    child.stdin!.end();
    child.kill();
  };
  try {
    const listening = await new Promise<Record<string, number>>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the connect-cost server exited (code ${code}) before listening`)));
      void next('port').then(resolve);
    });
    return {
      port: listening.port!,
      silentPort: listening.silentPort!,
      cpuMs: async () => {
        const answer = next('cpuMs');
        child.stdin!.write('cpu\n');
        return (await answer).cpuMs!;
      },
      hellos: async () => {
        await next('hellos');
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

type Get = (path: string, signal?: AbortSignal) => Promise<void>;

function client(library: ConnectCostOptions['library'], origin: string, dispatcher: Agent): Get {
  if (library === 'undici') {
    return async (path, signal) => {
      const { body } = await request(origin + path, { dispatcher, ...(signal ? { signal } : {}) });
      await body.text();
    };
  }
  return async (path, signal) => {
    // Node's global fetch takes a dispatcher of the undici package, whose types differ from the
    // bundled undici's that RequestInit names.
    const response = await fetch(origin + path, { dispatcher, ...(signal ? { signal } : {}) } as unknown as RequestInit);
    await response.arrayBuffer();
  };
}

/** How long the silent listener may take to hear a block's hellos before the measurement gives up. */
const HELLO_TIMEOUT_MS = 10_000;

export async function measureConnectCost(options: ConnectCostOptions): Promise<ConnectCost> {
  const connections = options.connections ?? 100;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be a positive integer, got ${connections}`);
  const tls = options.tls ? selfSignedCertificate() : undefined;
  const server = await startServer(tls);
  const port = server.port;
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
  // A block of fresh TLS connections to the silent listener: the CPU from the first I/O callback
  // (the connections issued) until the server has every hello. That is what the client spends
  // between its TCP connect and the server's half of the handshake. Then the requests are aborted
  // and their pool destroyed (undici would otherwise wait out its connect timeout).
  const helloBlock = async (): Promise<number> => {
    const agent = newAgent();
    const silent = client(options.library, `https://127.0.0.1:${server.silentPort}`, agent);
    const controllers = Array.from({ length: BLOCK }, () => new AbortController());
    const heard = server.hellos();
    const sent = controllers.map((controller) => silent('/', controller.signal).catch(() => undefined));
    await new Promise((resolve) => setImmediate(resolve));
    const issued = clock();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        heard,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the connect-cost server did not receive ${BLOCK} TLS hellos within ${HELLO_TIMEOUT_MS} ms`)),
            HELLO_TIMEOUT_MS,
          );
        }),
      ]);
      return (clock() - issued) / BLOCK;
    } finally {
      clearTimeout(timer);
      for (const controller of controllers) controller.abort();
      await agent.destroy();
      await Promise.all(sent);
    }
  };
  // A block with the server's CPU around it.
  const serverTimed = async (kind: 'fresh' | 'kept') => {
    const before = await server.cpuMs();
    const block = await timedBlock(kind);
    return { ...block, serverMs: (await server.cpuMs()) - before };
  };
  const extra: number[] = [];
  const extraOpening: number[] = [];
  const hello: number[] = [];
  const serverExtra: number[] = [];
  try {
    // Warm both paths (V8 tiers up undici's parser and the TLS code), and leave BLOCK kept-alive
    // connections idle in their pool for the kept blocks. Every `/close` request finds no idle
    // connection (the server closed each one it answered), so it opens one; the `/keep` requests
    // reuse the same BLOCK.
    for (let i = 0; i < WARMUP_BLOCKS; i++) await timedBlock('fresh');
    for (let i = 0; i < WARMUP_BLOCKS; i++) await timedBlock('kept');
    if (tls) for (let i = 0; i < WARMUP_BLOCKS; i++) await helloBlock();
    // Fresh and kept blocks alternate, so the machine's drift (other processes) falls on both alike.
    for (let block = 0; block < Math.ceil(connections / BLOCK); block++) {
      const freshBlock = await serverTimed('fresh');
      const keptBlock = await serverTimed('kept');
      extra.push((freshBlock.totalMs - keptBlock.totalMs) / BLOCK);
      extraOpening.push((freshBlock.issueMs - keptBlock.issueMs) / BLOCK);
      serverExtra.push((freshBlock.serverMs - keptBlock.serverMs) / BLOCK);
      if (tls) hello.push(await helloBlock());
    }
    // The median over blocks: one block that a preemption or a garbage collection hit would
    // otherwise outweigh the others.
    const connectCpuMs = Math.max(0, median(extra));
    const openCpuMs = Math.min(connectCpuMs, Math.max(0, median(extraOpening)));
    return {
      connectCpuMs,
      openCpuMs,
      helloCpuMs: hello.length ? Math.min(connectCpuMs - openCpuMs, Math.max(0, median(hello))) : 0,
      serverCpuMs: Math.max(0, median(serverExtra)),
      connections: Math.ceil(connections / BLOCK) * BLOCK,
    };
  } finally {
    await Promise.all([freshAgent.close(), keptAgent.close()]);
    server.stop();
  }
}
