import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { planRequests } from '../scenario/plan.ts';
import { closeConnections } from './close-connections.ts';
import { LISTEN_BACKLOG } from './listen-backlog.ts';
import type { HostSpec, Scenario } from '../scenario/schema.ts';
import { ReplayServer, type ServeOutcome, type WaitingClient } from './replay-server.ts';
import type { ServedCounts } from './tally.ts';

/**
 * The `net` backend: the scenario's hosts as real HTTP/1.1 servers, plain on port 80 and TLS on
 * 443 (or the ports the scenario's URLs name), each host on its own loopback address, answering
 * from the same host model as the in-process backends (ReplayServer). It runs in its own process
 * inside the cell's network namespace, outside the cell's CPU quota, so the job pays for its own
 * connections, handshakes and socket I/O and for nothing of the mock's.
 *
 * Connections are handled as a real server handles them: kept alive between requests (unless the
 * host says `keepAlive: false`) and closed after `KEEP_ALIVE_IDLE_MS` idle, at most
 * `maxConnections` open per host with the rest waiting to be accepted, and each new connection
 * held for the host's round trips (one for TCP, one more for TLS) before it is served.
 */

/** Node's own default idle timeout for kept-alive connections (docs/job-model.md). */
export const KEEP_ALIVE_IDLE_MS = 5000;
/** undici (and Node's fetch, built on it) stops reusing a connection this long before the server's announced timeout. */
const UNDICI_KEEP_ALIVE_THRESHOLD_MS = 2000;

/**
 * How long, in real ms, an idle connection to the net backend's servers stays in use: until the
 * server's timeout, or for undici-based clients (a Node job's undici.request and fetch) until 2 s
 * before the timeout the server announces in whole seconds. Python's requests and most other
 * clients keep a connection until the server closes it.
 */
export function replayIdleTimeoutMs(undiciClient: boolean): number {
  return undiciClient ? Math.floor(KEEP_ALIVE_IDLE_MS / 1000) * 1000 - UNDICI_KEEP_ALIVE_THRESHOLD_MS : KEEP_ALIVE_IDLE_MS;
}

export interface NetReplayOptions {
  scenario: Scenario;
  timeScale: number;
  /** The loopback address of each host. */
  addresses: ReadonlyMap<string, string>;
  /** Certificate and key files per host, for the TLS listeners. */
  leaf: (host: string) => { certFile: string; keyFile: string };
}

/** What the servers saw of one invocation. */
export interface NetTally {
  served: ServedCounts;
  unmocked: string[];
  failures: string[];
  /** CPU time of the whole server process since begin(), ms: what the job no longer pays for. */
  serverCpuMs: number;
  /** Connections accepted since begin(), all hosts. */
  connectionsOpened: number;
  /** How late the hosts' latency timers fired, real ms on average; absent when none ran. */
  latencyTimerLateMs?: number;
  /** The URLs served since begin(), in the order their first attempt arrived. */
  requestOrder: string[];
}

interface Endpoint {
  host: string;
  tls: boolean;
  port: number;
}

/** Every (host, scheme, port) the scenario's URLs reach. */
export function endpointsOf(scenario: Scenario): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const request of planRequests(scenario)) {
    const url = new URL(request.url);
    const tls = url.protocol === 'https:';
    const port = url.port ? Number(url.port) : tls ? 443 : 80;
    seen.set(`${request.host}:${port}`, { host: request.host, tls, port });
  }
  return [...seen.values()];
}

/** One host's connections across its listeners: the limit, the waiting line and the idle ones. */
class HostConnections {
  private open = 0;
  private readonly waiting: Array<() => void> = [];
  /** Sockets (as the HTTP server sees them) between answers, closable to make room. */
  readonly idle = new Set<Socket>();

  constructor(private readonly spec: HostSpec) {}

  /** Runs `accept` once the host has room for one more connection. */
  admit(socket: Socket, accept: () => void): void {
    socket.once('close', () => this.closed());
    const limit = this.spec.maxConnections;
    if (limit === undefined || this.open < limit) {
      this.open++;
      accept();
      return;
    }
    this.waiting.push(() => {
      this.open++;
      accept();
    });
    // A real server with a connection limit closes idle kept-alive connections for newcomers.
    const idle = this.idle.values().next();
    if (!idle.done) idle.value.destroy();
  }

  /** Whether a connection waits for room: the server then closes each answered one instead of keeping it idle. */
  hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  private closed(): void {
    this.open--;
    this.waiting.shift()?.();
  }
}

export class NetReplay {
  readonly replay: ReplayServer;
  private readonly listeners: TcpServer[] = [];
  private readonly httpServers: HttpServer[] = [];
  /** Every open connection, as accepted: the HTTP servers do not track sockets handed to them. */
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  /**
   * Between invocations: from tally() to the next begin(). A client may still open a connection
   * then (undici opens one for a queued request and keeps it when another frees up first); it is
   * closed at once, so that no invocation starts on a connection the last one made.
   */
  private between = false;
  /** The last invocation's connections being closed, gracefully, since tally(). */
  private closing: Promise<void> = Promise.resolve();
  private cpuAtBegin = process.cpuUsage();
  private timeScale: number;

  private constructor(private readonly options: NetReplayOptions) {
    this.replay = new ReplayServer(options.scenario, options.timeScale);
    this.timeScale = options.timeScale;
  }

  static async start(options: NetReplayOptions): Promise<NetReplay> {
    const net = new NetReplay(options);
    await net.listen();
    await net.begin(options.timeScale);
    return net;
  }

  private async listen(): Promise<void> {
    const hostConnections = new Map<string, HostConnections>();
    for (const endpoint of endpointsOf(this.options.scenario)) {
      const spec = this.options.scenario.hosts[endpoint.host]!;
      let connections = hostConnections.get(endpoint.host);
      if (!connections) hostConnections.set(endpoint.host, (connections = new HostConnections(spec)));
      const origin = `${endpoint.tls ? 'https' : 'http'}://${endpoint.host}${endpoint.port === (endpoint.tls ? 443 : 80) ? '' : `:${endpoint.port}`}`;
      const onRequest = (request: IncomingMessage, response: ServerResponse) => this.answer(origin, spec, connections, request, response);
      let server: HttpServer;
      if (endpoint.tls) {
        const leaf = this.options.leaf(endpoint.host);
        server = createHttpsServer({ cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) }, onRequest);
      } else {
        server = createHttpServer(onRequest);
      }
      this.httpServers.push(server);
      // TCP and TLS each take a round trip before the request can be sent.
      const setupMs = (spec.rttMs ?? 0) * (endpoint.tls ? 2 : 1);
      const listener = createTcpServer({ pauseOnConnect: true }, (socket) => {
        if (this.between) {
          socket.destroy();
          return;
        }
        this.connections++;
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.setNoDelay(true);
        connections.admit(socket, () => {
          const handOver = () => {
            if (socket.destroyed) return;
            server.emit('connection', socket);
            socket.resume();
          };
          if (setupMs > 0) setTimeout(handOver, setupMs / this.timeScale);
          else handOver();
        });
      });
      listener.on('error', (error) => this.replay.recordFailure(`listener ${endpoint.host}:${endpoint.port}: ${error.message}`));
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ port: endpoint.port, host: this.options.addresses.get(endpoint.host)!, backlog: LISTEN_BACKLOG }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      this.listeners.push(listener);
    }
  }

  /**
   * Fresh hosts for the next invocation, once the clients have seen the last invocation's
   * connections closed (tally() began closing them).
   */
  async begin(timeScale: number): Promise<void> {
    this.timeScale = timeScale;
    await this.closing;
    await closeConnections(this.sockets);
    this.between = false;
    // The idle timeout is not scaled: clients read it from the Keep-Alive header in whole seconds
    // and stop reusing a connection a second or two before it (undici), so 5 s / 16 would end
    // all reuse. A time-scaled replay therefore keeps idle connections somewhat longer.
    for (const server of this.httpServers) server.keepAliveTimeout = KEEP_ALIVE_IDLE_MS;
    this.replay.beginInvocation(timeScale);
    this.connections = 0;
    this.cpuAtBegin = process.cpuUsage();
  }

  /**
   * What the servers saw of the invocation that just ended. Its connections are closed now, as
   * the minutes between production invocations would close them: closing them here rather than
   * when the next invocation begins gives the client time to notice, so that it does not send
   * the next invocation's first requests on connections already gone.
   */
  tally(): NetTally {
    this.between = true;
    this.closing = closeConnections(this.sockets);
    const cpu = process.cpuUsage(this.cpuAtBegin);
    const late = this.replay.latencyTimerLateMs();
    return {
      served: this.replay.servedCounts(),
      requestOrder: this.replay.requestOrder(),
      unmocked: [...this.replay.unmockedRequests()],
      failures: [...this.replay.mockFailures()],
      serverCpuMs: (cpu.user + cpu.system) / 1000,
      connectionsOpened: this.connections,
      ...(late !== undefined ? { latencyTimerLateMs: late } : {}),
    };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
  }

  private answer(origin: string, spec: HostSpec, connections: HostConnections, request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    connections.idle.delete(socket);
    const client: WaitingClient = {
      gaveUp: () => (response.destroyed ? Promise.resolve() : new Promise((resolve) => response.once('close', () => resolve()))),
      hasGivenUp: () => response.destroyed && !response.writableFinished,
    };
    this.replay
      .serve(origin + (request.url ?? '/'), client)
      .then((outcome) => this.send(outcome, spec, connections, request, response))
      .catch((error: unknown) => {
        this.replay.recordFailure(`serving ${origin}${request.url}: ${error instanceof Error ? error.message : String(error)}`);
        socket.destroy();
      });
  }

  private send(outcome: ServeOutcome, spec: HostSpec, connections: HostConnections, request: IncomingMessage, response: ServerResponse): void {
    if (response.destroyed) return;
    if (spec.keepAlive === false || connections.hasWaiting()) response.shouldKeepAlive = false;
    response.once('finish', () => {
      if (!request.socket.destroyed && response.shouldKeepAlive) connections.idle.add(request.socket);
    });
    switch (outcome.kind) {
      case 'ok':
        response.writeHead(200, outcome.headers).end(outcome.body);
        return;
      case 'status':
        response.writeHead(outcome.status, outcome.headers).end();
        return;
      case 'reset':
      case 'no-answer':
        request.socket.destroy();
        return;
      case 'unmocked':
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`fanout-tuner: ${origin(request)} is not a URL of the scenario\n`);
        return;
    }
  }
}

function origin(request: IncomingMessage): string {
  return `${request.headers.host ?? ''}${request.url ?? ''}`;
}
