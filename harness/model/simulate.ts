import type { ErrorsByKind } from '../results/schema.ts';
import { drawAttempt, drawSinkLatency, planRequests, type AttemptDraw, type Fault, type PlannedRequest } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { EventLoopCpu } from './cpu-throttle.ts';
import { EventQueue } from './event-queue.ts';
import { backoffAfterMs } from './backoff.ts';
import { statedRetryAfterMs, TokenBucket } from './token-bucket.ts';

/**
 * A discrete-event simulation of one invocation of the job, to the rules of docs/job-model.md,
 * in virtual time. It draws every latency, size and fault from harness/scenario/plan.ts, so that
 * attempt a of request i is the same here, in the replay and in every cell (common random numbers).
 */

export interface SimulationOptions {
  concurrency: number;
  /**
   * The requests the job makes, in the order it makes them: a deployed function's, as its warm-up
   * showed them. Each keeps its index in the scenario's plan, so its draws are the replay's.
   * Absent: the scenario's own plan.
   */
  requests?: readonly PlannedRequest[];
  /** CPU work per successful response on one full core, ms (client overhead + parse). */
  cpuMsPerResponse?: number | ((bodyBytes: number) => number);
  /** CPU work per failed attempt (429/5xx/reset/timeout handling), ms on a full core. */
  cpuMsPerFailure?: number;
  /** Share of one core the event loop gets (memory/1769, capped at 1). */
  cpuShare?: number;
  /**
   * Throttled as Lambda and a CFS quota throttle, in periods of this many ms from the
   * invocation's start: full speed until the period's share is used, then a pause until the next
   * (harness/model/cpu-throttle.ts). Absent: an even share, as a time-scaled replay runs.
   */
  cpuPeriodMs?: number;
  /**
   * With `cpuPeriodMs`: the share of a core the loop runs at while a period's quota lasts (default
   * 1). A time-scaled replay under a quota of less than a core runs at 1/timeScale of a core in
   * scenario time, and is throttled in its quota's periods (harness/model/cpu-throttle.ts).
   */
  cpuFullSpeed?: number;
  /**
   * CPU work per new connection on a full core, ms: the client's side of the TCP connect and TLS
   * handshake (harness/run/connect-cost.ts). 0 for in-process backends, which open no connection.
   */
  connectCpuMs?: number;
  /**
   * CPU work per new connection spent opening it, on a full core, ms: the socket and the start of
   * the handshake, run when the connection is admitted, before its round trips. `connectCpuMs` is
   * then the rest, run when the round trips are done. With many connections opened at once, every
   * connection's opening runs before any of them can finish its handshake.
   */
  connectOpenCpuMs?: number;
  /**
   * CPU work per new connection between its TCP connect and the server's half of the handshake,
   * on a full core, ms: the TLS ClientHello. It runs once the TCP round trip is done and the
   * event loop has done the work queued before it (the connect is an I/O callback). Part of the
   * whole with `connectOpenCpuMs`; `connectCpuMs` is then what follows the server's answer.
   */
  connectHelloCpuMs?: number;
  /**
   * The replay's servers' work per new connection (the accept and the server's half of the
   * handshake), scenario ms, for simulating a replay as it ran. The hosts' listeners take turns and
   * a host's turn takes the connections it had waiting then, so a connection waits behind those,
   * not behind every connection opened before it; the work shares the servers' loop with
   * `serverMsPerAttempt` (docs/job-model.md, The replay's servers).
   */
  serverConnectMs?: number;
  /** An idle keep-alive connection is closed after this long (docs/job-model.md, Connections). */
  idleTimeoutMs?: number;
  /**
   * The replay's own servers as one more resource, for simulating a replay as it ran rather than
   * the job in production: ms of scenario time the servers' single event loop spends on each
   * attempt before the host can act on it. Attempts wait for it in arrival order. A real-time cost
   * looks `timeScale` times larger in a time-scaled replay (docs/job-model.md, The replay's servers).
   */
  serverMsPerAttempt?: number;
  /**
   * The replay's timers as they fired, for simulating a replay as it ran: scenario ms added to each
   * host latency (the host's slot is held that much longer) and to each sink write that waits
   * (docs/job-model.md, The replay's timers). Negative for timers that fired early; a wait never
   * goes below zero.
   */
  latencyTimerLateMs?: number;
  sinkTimerLateMs?: number;
  /** Also return each request's timeline (for the report's waterfall); off in the sweep's inner loops. */
  timeline?: boolean;
}

/** When each request ran, per request in plan order (ms from the invocation's start). */
export interface RequestTimeline {
  /** Its first attempt was sent. */
  startMs: number[];
  /** Its worker was free again: answered, parsed, its row handed to the sink (and written, if it filled a batch). */
  doneMs: number[];
  /** The request whose end freed the worker that started this one; -1 for those started at time 0. */
  startedBy: number[];
}

export interface SimulationResult {
  makespanMs: number;
  requests: number;
  /** Requests that failed for good, after their retries. */
  errors: number;
  retries: number;
  /** Every failed attempt, retried or not, by kind. */
  errorsByKind: ErrorsByKind;
  /** Per request (plan order), from its first send until its final attempt's outcome reached the client. */
  requestLatencyMs: number[];
  /** CPU time consumed: the work, on a full core. */
  cpuWorkMs: number;
  rowsWritten: number;
  /** Connections the hosts admitted (docs/job-model.md, Connections). */
  connectionsOpened: number;
  timeline?: RequestTimeline;
}

/**
 * The requests the makespan waited on: from the last request to be done, back through the request
 * whose end started it, to one started at time 0. Shortening any other request does not shorten
 * the invocation; shortening one of these may.
 */
export function criticalPath(timeline: RequestTimeline): number[] {
  const { doneMs, startedBy } = timeline;
  if (doneMs.length === 0) return [];
  let last = 0;
  for (let i = 1; i < doneMs.length; i++) if (doneMs[i]! > doneMs[last]!) last = i;
  const path: number[] = [];
  for (let request = last; request >= 0; request = startedBy[request]!) path.push(request);
  return path.reverse();
}

/** Node's http.Server keepAliveTimeout by default: the server closes a connection idle this long. */
export const SERVER_IDLE_TIMEOUT_MS = 5000;

/** The makespan with an infinitely fast client: the best any replay of these draws can do. */
export function idealMakespanMs(scenario: Scenario, concurrency: number, requests?: readonly PlannedRequest[]): number {
  return simulate(scenario, { concurrency, ...(requests ? { requests } : {}) }).makespanMs;
}

// Event kinds. Numbers rather than strings: the inner loop runs millions of times in a sweep.
const SEND = 0;
const SERVICE_END = 1;
const CLIENT_TIMEOUT = 2;
const CPU_DONE = 3;
const SINK_DONE = 4;
const CONNECTED = 5;
/** The replay's server loop has read the attempt: the host acts on it now. */
const SERVER_READ = 6;
/** A new connection's TCP round trip is done: the client sends its hello once its loop is free. */
const TCP_CONNECTED = 7;
/** A new connection's hello has reached the servers: it waits for them to accept it, in turn over the hosts. */
const AT_SERVERS = 8;
/** The servers have done their half of a connection's handshake. */
const SERVER_HANDSHAKE_DONE = 9;

// Outcomes of an attempt as the client sees them.
const SUCCESS = 0;
const HTTP_5XX = 1;
const HTTP_429 = 2;
const TIMEOUT = 3;
const RESET = 4;
/** Not an outcome: the CPU work of a new connection is done, its request can go. */
const CONNECT_WORK = 5;
type FailureKind = typeof HTTP_5XX | typeof HTTP_429 | typeof TIMEOUT | typeof RESET;

// Faults drawn for an attempt, as the server acts on them.
const FAULT_CODE: Record<Fault, number> = { none: 0, error: 1, timeout: 2, reset: 3 };
const FAULT_NONE = 0;
const FAULT_ERROR = 1;
const FAULT_TIMEOUT = 2;

/** An attempt waiting in a host's queue: it carries its own draw, since the client may have moved on. */
interface QueuedAttempt {
  request: number;
  attempt: number;
  latencyMs: number;
  fault: number;
}

// A connection's life. Numbers, in plain arrays indexed by connection id, for the inner loop.
/** Past the host's maxConnections: waits in its FIFO for a slot. */
const CONN_WAITING = 0;
/** Admitted: round trips of the handshake, then its CPU work. */
const CONN_CONNECTING = 1;
/** Carrying a request, or idle in its origin's pool. */
const CONN_OPEN = 2;
const CONN_CLOSED = 3;

/** The client's pool of connections to one origin (scheme + host). */
interface Origin {
  index: number;
  host: HostState;
  /** Waiting before a new connection's request is sent: setup round trips x rttMs. */
  setupMs: number;
  /** Idle connections; the last is the most recently used, and they became idle in this order. */
  idle: number[];
  /**
   * No round trip, no CPU, no limit, kept alive (every in-process backend): a connection is then
   * only counted, and its pool needs nothing but the times its idle connections became idle.
   */
  free: boolean;
  /** For a free origin: when each idle connection became idle, in that order. */
  idleSince: number[];
}

interface HostState {
  keepAlive: boolean;
  maxConnections: number;
  /** Admitted connections (connecting, busy or idle), of every origin of the host. */
  openConnections: number;
  /** Connections waiting for a slot, FIFO; closed ones are skipped when they come up. */
  connQueue: number[];
  connQueueHead: number;
  origins: Origin[];
  httpOrigin: Origin | undefined;
  httpsOrigin: Origin | undefined;
  rttMs: number;
  capacity: number;
  inService: number;
  queue: QueuedAttempt[];
  queueHead: number;
  /** New connections waiting for the servers' half of their handshake, FIFO. */
  handshakes: number[];
  handshakesHead: number;
  /** The rate limit, if the host has one. */
  bucket: TokenBucket | undefined;
  retryAfter: 'ms' | 'seconds';
}

interface QueuedBatch {
  batch: number;
  rows: number;
  latencyMs: number;
  waiter: number;
}

function addOrigin(origins: Origin[], host: HostState, https: boolean, connectCpuMs: number): Origin {
  const setupMs = (https ? 2 : 1) * host.rttMs;
  const free = setupMs === 0 && connectCpuMs === 0 && host.keepAlive && host.maxConnections === Number.POSITIVE_INFINITY;
  const origin: Origin = { index: origins.length, host, setupMs, idle: [], free, idleSince: [] };
  origins.push(origin);
  host.origins.push(origin);
  return origin;
}

/**
 * The connections of origins that are not free (docs/job-model.md, Connections): admission
 * against maxConnections, the handshake's CONNECTED event, the pool, closing. A class at module
 * level rather than closures in simulate(): a simulation of a few hundred requests should not
 * pay for making them.
 */
class Connections {
  readonly state: number[] = [];
  private readonly origin: number[] = [];
  private readonly request: number[] = [];
  private readonly attempt: number[] = [];
  private readonly idleSince: number[] = [];
  /** Connections the hosts admitted. */
  opened = 0;

  /** Hosts in the order they first had a connection for the servers to accept: the servers' round. */
  private readonly acceptingHosts: HostState[] = [];
  private nextHost = 0;
  /** The servers are doing their half of a handshake. */
  private handshaking = false;
  /** The host whose turn it is, and the end of the connections it had waiting when the turn came. */
  private turnHost: HostState | undefined;
  private turnEnd = 0;

  constructor(
    private readonly events: EventQueue,
    private readonly origins: readonly Origin[],
    private readonly idleTimeoutMs: number,
    /** Everything a new connection costs before its request goes (the simulator's connectionSetupMs): 0 makes it instant. */
    private readonly setupMs: number,
    /** Runs the client's opening of a connection admitted at `now` (connectOpenCpuMs); returns when it is done. */
    private readonly openConnection: (now: number) => number = (now) => now,
    /**
     * With a hello or the servers' handshake work, a connection goes through TCP_CONNECTED (and
     * AT_SERVERS) before CONNECTED; without them, straight to CONNECTED after its round trips.
     */
    private readonly staged = false,
    /** The servers' work per handshake, and when their loop is next free (shared with the attempts they read). */
    private readonly serverConnectMs = 0,
    private readonly servers: { freeAtMs: number } = { freeAtMs: 0 },
  ) {}

  /** Takes an idle connection of the origin (most recently used first) or opens one for the attempt. */
  take(origin: Origin, request: number, attempt: number, now: number): number {
    const idle = origin.idle;
    if (idle.length > 0) {
      const conn = idle[idle.length - 1]!;
      if (now - this.idleSince[conn]! < this.idleTimeoutMs) {
        idle.pop();
        return conn;
      }
      // The most recently used one has expired, so have all the others.
      this.expireIdle(origin, now);
    }
    const conn = this.state.length;
    this.state.push(CONN_WAITING);
    this.origin.push(origin.index);
    this.request.push(request);
    this.attempt.push(attempt);
    this.idleSince.push(0);
    const host = origin.host;
    if (host.openConnections < host.maxConnections || this.makeRoom(host, now)) this.admit(conn, now, false);
    else host.connQueue.push(conn);
    return conn;
  }

  /** The answer has reached the client: the connection goes back to the pool, unless the server closes it. */
  release(origin: Origin, conn: number, now: number): void {
    if (!origin.host.keepAlive || this.hasWaiting(origin.host)) {
      this.close(conn, now);
      return;
    }
    this.idleSince[conn] = now;
    origin.idle.push(conn);
  }

  close(conn: number, now: number): void {
    const state = this.state[conn]!;
    this.state[conn] = CONN_CLOSED;
    // A waiting connection held no slot; the queue skips it when it comes up.
    if (state === CONN_WAITING || state === CONN_CLOSED) return;
    const host = this.origins[this.origin[conn]!]!.host;
    host.openConnections--;
    if (host.openConnections < host.maxConnections && this.hasWaiting(host)) this.admit(host.connQueue[host.connQueueHead++]!, now, true);
  }

  private hasWaiting(host: HostState): boolean {
    const queue = host.connQueue;
    while (host.connQueueHead < queue.length && this.state[queue[host.connQueueHead]!] === CONN_CLOSED) host.connQueueHead++;
    return host.connQueueHead < queue.length;
  }

  /** The host admits a connection: it holds a slot from now until it closes. */
  private admit(conn: number, now: number, fromQueue: boolean): void {
    const origin = this.origins[this.origin[conn]!]!;
    origin.host.openConnections++;
    this.opened++;
    if (!fromQueue && origin.setupMs === 0 && this.setupMs === 0) {
      // An instant connection for the attempt being sent: its request goes at once, as on a free origin.
      this.state[conn] = CONN_OPEN;
      return;
    }
    // Through an event even when instant (a connection admitted as another closes), so that nothing recurses.
    this.state[conn] = CONN_CONNECTING;
    const opened = this.openConnection(now);
    if (this.staged) this.events.push(Math.max(now + origin.host.rttMs, opened), TCP_CONNECTED, this.request[conn]!, this.attempt[conn]!, conn);
    else this.events.push(Math.max(now + origin.setupMs, opened), CONNECTED, this.request[conn]!, this.attempt[conn]!, conn);
  }

  /** What is left of a connection's round trips once its TCP connect is done: TLS's, on https. */
  tlsRoundTripMs(conn: number): number {
    const origin = this.origins[this.origin[conn]!]!;
    return origin.setupMs - origin.host.rttMs;
  }

  /** A connection's hello has reached the servers: it waits for them to accept it in their round over the hosts. */
  atServers(conn: number, now: number): void {
    const host = this.origins[this.origin[conn]!]!.host;
    if (host.handshakes.length === 0) this.acceptingHosts.push(host);
    host.handshakes.push(conn);
    if (!this.handshaking) this.handshakeNext(now);
  }

  /** The servers have done their half of the handshake: the client hears back after TLS's round trip. */
  handshakeDone(conn: number, now: number): void {
    this.handshaking = false;
    if (this.state[conn] === CONN_CONNECTING) this.events.push(now + this.tlsRoundTripMs(conn), CONNECTED, this.request[conn]!, this.attempt[conn]!, conn);
    this.handshakeNext(now);
  }

  /**
   * The servers take the next connection to accept: Node accepts every connection waiting at a
   * ready listener, and the listeners (a host each) take turns, so a host with one new connection
   * waits behind the connections another host had waiting when its turn came, not behind all the
   * connections opened before it.
   */
  private handshakeNext(now: number): void {
    const hosts = this.acceptingHosts;
    // The rest of the turn first: the connections its host had waiting when it came.
    let host = this.turnHost;
    if (host && !(this.hasHandshake(host) && host.handshakesHead < this.turnEnd)) host = undefined;
    if (!host) {
      for (let i = 0; i < hosts.length && !host; i++) {
        const index = (this.nextHost + i) % hosts.length;
        if (!this.hasHandshake(hosts[index]!)) continue;
        host = hosts[index]!;
        // Not wrapped: a host that joins the round later comes after this one.
        this.nextHost = index + 1;
        this.turnHost = host;
        this.turnEnd = host.handshakes.length;
      }
      if (!host) return;
    }
    const conn = host.handshakes[host.handshakesHead++]!;
    this.servers.freeAtMs = Math.max(now, this.servers.freeAtMs) + this.serverConnectMs;
    this.handshaking = true;
    this.events.push(this.servers.freeAtMs, SERVER_HANDSHAKE_DONE, this.request[conn]!, this.attempt[conn]!, conn);
  }

  /** Whether a connection of the host waits for the servers (those the client gave up on meanwhile are skipped). */
  private hasHandshake(host: HostState): boolean {
    while (host.handshakesHead < host.handshakes.length && this.state[host.handshakes[host.handshakesHead]!] !== CONN_CONNECTING) host.handshakesHead++;
    return host.handshakesHead < host.handshakes.length;
  }

  /** The server closes the connections of this origin idle for idleTimeoutMs (oldest first in the pool). */
  private expireIdle(origin: Origin, now: number): void {
    const idle = origin.idle;
    let expired = 0;
    while (expired < idle.length && now - this.idleSince[idle[expired]!]! >= this.idleTimeoutMs) {
      this.state[idle[expired]!] = CONN_CLOSED;
      expired++;
    }
    if (expired === 0) return;
    idle.splice(0, expired);
    // No connection waits while one is idle (one would have been closed for it): nobody to admit.
    origin.host.openConnections -= expired;
  }

  /** At maxConnections, the server closes its longest-idle connection for a new one, if it has one. */
  private makeRoom(host: HostState, now: number): boolean {
    let oldest: Origin | undefined;
    for (const origin of host.origins) {
      this.expireIdle(origin, now);
      const first = origin.idle[0];
      if (first !== undefined && (oldest === undefined || this.idleSince[first]! < this.idleSince[oldest.idle[0]!]!)) oldest = origin;
    }
    if (host.openConnections < host.maxConnections) return true;
    if (oldest === undefined) return false;
    this.state[oldest.idle.shift()!] = CONN_CLOSED;
    host.openConnections--;
    return true;
  }
}

const EMPTY_INT32 = new Int32Array(0);
/** Stands for the tracker in a simulation with only free origins, which never call it. */
const NO_CONNECTIONS = new Connections(new EventQueue(), [], 1, 0);

function checkOptions(options: SimulationOptions): void {
  const {
    concurrency,
    cpuMsPerResponse,
    cpuMsPerFailure,
    cpuShare,
    connectCpuMs,
    connectOpenCpuMs,
    connectHelloCpuMs,
    serverConnectMs,
    idleTimeoutMs,
    serverMsPerAttempt,
    latencyTimerLateMs,
    sinkTimerLateMs,
  } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (typeof cpuMsPerResponse === 'number' && !(Number.isFinite(cpuMsPerResponse) && cpuMsPerResponse >= 0)) {
    throw new RangeError(`cpuMsPerResponse must be a finite number >= 0, got ${cpuMsPerResponse}`);
  }
  if (cpuMsPerFailure !== undefined && !(Number.isFinite(cpuMsPerFailure) && cpuMsPerFailure >= 0)) {
    throw new RangeError(`cpuMsPerFailure must be a finite number >= 0, got ${cpuMsPerFailure}`);
  }
  for (const [name, value] of [
    ['connectCpuMs', connectCpuMs],
    ['connectOpenCpuMs', connectOpenCpuMs],
    ['connectHelloCpuMs', connectHelloCpuMs],
    ['serverConnectMs', serverConnectMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
  if (serverMsPerAttempt !== undefined && !(Number.isFinite(serverMsPerAttempt) && serverMsPerAttempt >= 0)) {
    throw new RangeError(`serverMsPerAttempt must be a finite number >= 0, got ${serverMsPerAttempt}`);
  }
  for (const [name, value] of [
    ['latencyTimerLateMs', latencyTimerLateMs],
    ['sinkTimerLateMs', sinkTimerLateMs],
  ] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${value}`);
  }
  if (idleTimeoutMs !== undefined && !(idleTimeoutMs > 0)) {
    throw new RangeError(`idleTimeoutMs must be > 0, got ${idleTimeoutMs}`);
  }
  if (cpuShare !== undefined && !(cpuShare > 0 && cpuShare <= 1)) {
    throw new RangeError(`cpuShare must be in (0, 1] (memory / 1769, capped at 1), got ${cpuShare}`);
  }
  if (options.cpuPeriodMs !== undefined && !(Number.isFinite(options.cpuPeriodMs) && options.cpuPeriodMs > 0)) {
    throw new RangeError(`cpuPeriodMs must be a finite number > 0, got ${options.cpuPeriodMs}`);
  }
  const fullSpeed = options.cpuFullSpeed;
  if (fullSpeed !== undefined && !(Number.isFinite(fullSpeed) && fullSpeed > 0 && fullSpeed <= 1 && fullSpeed >= (options.cpuShare ?? 1))) {
    throw new RangeError(`cpuFullSpeed must be in [cpuShare, 1], got ${fullSpeed}`);
  }
}

export function simulate(scenario: Scenario, options: SimulationOptions): SimulationResult {
  checkOptions(options);
  const cpuShare = options.cpuShare ?? 1;
  const cpuMsPerFailure = options.cpuMsPerFailure ?? 0;
  const connectOpenCpuMs = options.connectOpenCpuMs ?? 0;
  const connectCpuMs = options.connectCpuMs ?? 0;
  const connectHelloCpuMs = options.connectHelloCpuMs ?? 0;
  const serverConnectMs = options.serverConnectMs ?? 0;
  // Everything a new connection costs before its request goes; none of it, and no round trip, makes an origin free.
  const connectionSetupMs = connectOpenCpuMs + connectHelloCpuMs + connectCpuMs + serverConnectMs;
  const serverMsPerAttempt = options.serverMsPerAttempt ?? 0;
  const latencyTimerLateMs = options.latencyTimerLateMs ?? 0;
  const sinkTimerLateMs = options.sinkTimerLateMs ?? 0;
  const idleTimeoutMs = options.idleTimeoutMs ?? SERVER_IDLE_TIMEOUT_MS;
  const perResponse = options.cpuMsPerResponse ?? 0;
  const cpuMsForResponse = (bodyBytes: number): number => {
    if (typeof perResponse === 'number') return perResponse;
    const ms = perResponse(bodyBytes);
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError(`cpuMsPerResponse(${bodyBytes}) must return a finite number >= 0, got ${ms}`);
    }
    return ms;
  };

  const plan = options.requests ?? planRequests(scenario);
  const n = plan.length;
  const { timeoutMs, retries: maxRetries, backoffMs } = scenario.client;
  const { batchSize, poolSize } = scenario.sink;

  const hostsByName = new Map<string, HostState>();
  const hostOf: HostState[] = plan.map(({ host }) => {
    let state = hostsByName.get(host);
    if (!state) {
      const spec = scenario.hosts[host];
      if (!spec) throw new Error(`host ${host} is not in the scenario`);
      state = {
        keepAlive: spec.keepAlive ?? true,
        maxConnections: spec.maxConnections ?? Number.POSITIVE_INFINITY,
        openConnections: 0,
        connQueue: [],
        connQueueHead: 0,
        origins: [],
        httpOrigin: undefined,
        httpsOrigin: undefined,
        rttMs: spec.rttMs ?? 0,
        capacity: spec.capacity ?? Number.POSITIVE_INFINITY,
        inService: 0,
        queue: [],
        queueHead: 0,
        handshakes: [],
        handshakesHead: 0,
        bucket: spec.rateLimit ? new TokenBucket(spec.rateLimit) : undefined,
        retryAfter: spec.rateLimit?.retryAfter ?? 'ms',
      };
      hostsByName.set(host, state);
    }
    return state;
  });
  // The pool a request's attempts use: one per scheme and host (the port follows the scheme).
  const origins: Origin[] = [];
  const originOf: Origin[] = new Array<Origin>(n);
  let allFree = true;
  for (let i = 0; i < n; i++) {
    const host = hostOf[i]!;
    const origin = plan[i]!.url.startsWith('https:')
      ? (host.httpsOrigin ??= addOrigin(origins, host, true, connectionSetupMs))
      : (host.httpOrigin ??= addOrigin(origins, host, false, connectionSetupMs));
    allFree &&= origin.free;
    originOf[i] = origin;
  }

  // Per-request client state. `attemptOf` + `awaiting` tell live events from those of an attempt
  // the client already gave up on (the server still serves those; see docs/job-model.md).
  const attemptOf = new Int32Array(n);
  const awaiting = new Uint8Array(n);
  /** When the answer of the current attempt will reach the client (Infinity until it is served). */
  const answerAtMs = new Float64Array(n);
  const firstSentAtMs = new Float64Array(n);
  const bodyBytesOf = new Float64Array(n);
  const waitAfterFailureMs = new Float64Array(n);
  const latencyMs = new Float64Array(n);
  /** The connection the current attempt of each request uses (or waits for), on a pool that is not free. */
  const connOf = allFree ? EMPTY_INT32 : new Int32Array(n);
  /** Connections of free origins (counted only). */
  let freeConnectionsOpened = 0;

  const errorsByKind: ErrorsByKind = { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 };
  let errors = 0;
  let retries = 0;
  const cpu = new EventLoopCpu(cpuShare, options.cpuPeriodMs, options.cpuFullSpeed);
  /** When the replay's servers' loop is next free: the attempts it reads and the handshakes it does share it. */
  const servers = { freeAtMs: 0 };
  let rowsWritten = 0;
  let bufferedRows = 0;
  let batchesStarted = 0;
  let freeConnections = poolSize;
  const sinkQueue: QueuedBatch[] = [];
  /** Per batch: 1 if its write waited on a timer. */
  const batchWaited: number[] = [];
  let sinkQueueHead = 0;
  let nextRequest = 0;
  let tasksDone = 0;
  let finished = false;
  let makespanMs = 0;

  const timeline: RequestTimeline | undefined = options.timeline
    ? { startMs: new Array<number>(n).fill(0), doneMs: new Array<number>(n).fill(0), startedBy: new Array<number>(n).fill(-1) }
    : undefined;
  const events = new EventQueue();
  // Only free origins (in-process backends, no rttMs): nothing to track but the count.
  const connections = allFree
    ? NO_CONNECTIONS
    : new Connections(
        events,
        origins,
        idleTimeoutMs,
        connectionSetupMs,
        (now) => (connectOpenCpuMs > 0 ? cpu.run(now, connectOpenCpuMs) : now),
        connectHelloCpuMs > 0 || serverConnectMs > 0,
        serverConnectMs,
        servers,
      );

  const finish = (now: number): void => {
    finished = true;
    makespanMs = now;
  };

  const startBatch = (now: number, rows: number, waiter: number): void => {
    const batch = batchesStarted++;
    const drawnMs = drawSinkLatency(scenario, batch);
    // The model sink sets no timer for an instant write.
    const batchLatencyMs = drawnMs > 0 ? Math.max(0, drawnMs + sinkTimerLateMs) : 0;
    batchWaited.push(drawnMs > 0 ? 1 : 0);
    if (freeConnections > 0) {
      freeConnections--;
      events.push(now + batchLatencyMs, SINK_DONE, waiter, batch, rows);
    } else {
      sinkQueue.push({ batch, rows, latencyMs: batchLatencyMs, waiter });
    }
  };

  const taskDone = (request: number, now: number): void => {
    tasksDone++;
    if (timeline) timeline.doneMs[request] = now;
    if (nextRequest < n) {
      if (timeline) timeline.startedBy[nextRequest] = request;
      startRequest(nextRequest++, now);
    } else if (tasksDone === n) {
      if (bufferedRows > 0) {
        startBatch(now, bufferedRows, -1);
        bufferedRows = 0;
      } else {
        finish(now);
      }
    }
  };

  const afterCpu = (request: number, attempt: number, outcome: number, now: number): void => {
    if (outcome === CONNECT_WORK) {
      // The attempt may have been abandoned (and its connection closed) while the CPU was busy.
      const conn = connOf[request]!;
      if (awaiting[request] === 1 && attemptOf[request] === attempt && connections.state[conn] === CONN_CONNECTING) {
        connections.state[conn] = CONN_OPEN;
        arrive(request, attempt, now);
      }
      return;
    }
    if (outcome === SUCCESS) {
      bufferedRows++;
      if (bufferedRows >= batchSize) {
        startBatch(now, bufferedRows, request);
        bufferedRows = 0;
      } else {
        taskDone(request, now);
      }
    } else if (attempt < maxRetries) {
      // Always through the queue, even for a zero wait, so that retries never recurse.
      events.push(now + waitAfterFailureMs[request]!, SEND, request, attempt + 1, 0);
    } else {
      errors++;
      taskDone(request, now);
    }
  };

  const runOnCpu = (now: number, workMs: number, request: number, attempt: number, outcome: number): void => {
    if (workMs === 0 && !cpu.busyAt(now)) {
      afterCpu(request, attempt, outcome, now);
      return;
    }
    events.push(cpu.run(now, workMs), CPU_DONE, request, attempt, outcome);
  };

  const succeed = (request: number, attempt: number, now: number): void => {
    awaiting[request] = 0;
    latencyMs[request] = now - firstSentAtMs[request]!;
    runOnCpu(now, cpuMsForResponse(bodyBytesOf[request]!), request, attempt, SUCCESS);
  };

  const fail = (request: number, attempt: number, kind: FailureKind, now: number, waitMs: number): void => {
    awaiting[request] = 0;
    latencyMs[request] = now - firstSentAtMs[request]!;
    if (kind === HTTP_5XX) errorsByKind.http5xx++;
    else if (kind === HTTP_429) errorsByKind.http429++;
    else if (kind === TIMEOUT) errorsByKind.timeout++;
    else errorsByKind.reset++;
    waitAfterFailureMs[request] = waitMs;
    runOnCpu(now, cpuMsPerFailure, request, attempt, kind);
  };

  const beginService = (host: HostState, request: number, attempt: number, serviceMs: number, fault: number, now: number): void => {
    host.inService++;
    const endMs = now + Math.max(0, serviceMs + latencyTimerLateMs);
    if (fault !== FAULT_TIMEOUT && awaiting[request] === 1 && attemptOf[request] === attempt) answerAtMs[request] = endMs;
    events.push(endMs, SERVICE_END, request, attempt, fault);
  };

  // The current attempt's draw, for its request to take to the host once connected.
  const drawOf = new Array<AttemptDraw>(n);

  /**
   * The request reaches its host. Returns whether the client needs a timeout event, for a request
   * sent at `now` (a request that waited for its connection has had one since it was sent).
   */
  const atHost = (request: number, attempt: number, now: number): boolean => {
    const host = hostOf[request]!;
    const untilTokenMs = host.bucket ? host.bucket.take(now) : 0;
    if (untilTokenMs > 0) {
      const origin = originOf[request]!;
      if (origin.free) origin.idleSince.push(now);
      else connections.release(origin, connOf[request]!, now);
      fail(request, attempt, HTTP_429, now, statedRetryAfterMs(untilTokenMs, host.retryAfter));
      return false;
    }

    if (host.inService < host.capacity) {
      const draw = drawOf[request]!;
      beginService(host, request, attempt, draw.latencyMs, FAULT_CODE[draw.fault], now);
      // Most attempts are answered in time: they need no timeout event.
      return answerAtMs[request]! > now + timeoutMs;
    }
    const draw = drawOf[request]!;
    host.queue.push({ request, attempt, latencyMs: draw.latencyMs, fault: FAULT_CODE[draw.fault] });
    return true;
  };

  /**
   * The attempt reaches the servers. Without a server cost the host acts on it at once; with one,
   * once the servers' loop has read it (SERVER_READ), and the client's timeout is always needed.
   */
  const arrive = (request: number, attempt: number, now: number): boolean => {
    if (serverMsPerAttempt === 0) return atHost(request, attempt, now);
    servers.freeAtMs = Math.max(now, servers.freeAtMs) + serverMsPerAttempt;
    events.push(servers.freeAtMs, SERVER_READ, request, attempt, 0);
    return true;
  };

  const send = (request: number, attempt: number, now: number): void => {
    attemptOf[request] = attempt;
    awaiting[request] = 1;
    answerAtMs[request] = Number.POSITIVE_INFINITY;
    if (attempt > 0) retries++;
    const draw = drawAttempt(scenario, plan[request]!.host, plan[request]!.index, attempt);
    bodyBytesOf[request] = draw.bodyBytes;
    drawOf[request] = draw;
    const origin = originOf[request]!;
    if (origin.free) {
      // Free connections: reuse the most recent idle one unless the server has closed it, else count a new one.
      const idleSince = origin.idleSince;
      const last = idleSince.length - 1;
      if (last >= 0 && now - idleSince[last]! < idleTimeoutMs) idleSince.length = last;
      else {
        idleSince.length = 0;
        freeConnectionsOpened++;
      }
      if (arrive(request, attempt, now)) events.push(now + timeoutMs, CLIENT_TIMEOUT, request, attempt, 0);
      return;
    }
    const conn = connections.take(origin, request, attempt, now);
    connOf[request] = conn;
    if (connections.state[conn] !== CONN_OPEN || arrive(request, attempt, now)) events.push(now + timeoutMs, CLIENT_TIMEOUT, request, attempt, 0);
  };

  const startRequest = (request: number, now: number): void => {
    firstSentAtMs[request] = now;
    if (timeline) timeline.startMs[request] = now;
    send(request, 0, now);
  };

  const endService = (request: number, attempt: number, fault: number, now: number): void => {
    const host = hostOf[request]!;
    host.inService--;
    if (host.queueHead < host.queue.length) {
      const next = host.queue[host.queueHead++]!;
      beginService(host, next.request, next.attempt, next.latencyMs, next.fault, now);
    }
    // The server does not notice that a client gave up: it serves the attempt, nobody listens.
    if (awaiting[request] !== 1 || attemptOf[request] !== attempt) return;
    if (fault === FAULT_TIMEOUT) return; // Nothing is sent; the client's own timer ends the attempt.
    const origin = originOf[request]!;
    if (origin.free) {
      if (fault === FAULT_NONE || fault === FAULT_ERROR) origin.idleSince.push(now);
    } else if (fault === FAULT_NONE || fault === FAULT_ERROR) connections.release(origin, connOf[request]!, now);
    else connections.close(connOf[request]!, now);
    if (fault === FAULT_NONE) succeed(request, attempt, now);
    else if (fault === FAULT_ERROR) fail(request, attempt, HTTP_5XX, now, backoffAfterMs(backoffMs, attempt));
    else fail(request, attempt, RESET, now, backoffAfterMs(backoffMs, attempt));
  };

  const endSinkWrite = (waiter: number, rows: number, now: number): void => {
    rowsWritten += rows;
    if (sinkQueueHead < sinkQueue.length) {
      const next = sinkQueue[sinkQueueHead++]!;
      events.push(now + next.latencyMs, SINK_DONE, next.waiter, next.batch, next.rows);
    } else {
      freeConnections++;
    }
    if (waiter >= 0) taskDone(waiter, now);
    else finish(now);
  };

  // The workers take the first requests in plan order, all at time 0.
  const initialWorkers = Math.min(options.concurrency, n);
  while (nextRequest < initialWorkers) startRequest(nextRequest++, 0);
  // A job that makes no request (a deployed function whose warm-up requested nothing) waits on nothing.
  if (n === 0) finish(0);

  while (!finished) {
    const event = events.pop();
    if (!event) throw new Error('simulation stalled: no event left before every request finished');
    const now = event.timeMs;
    // The job's own timers (a retry's wait, a sink write that waits) end in a callback, which runs
    // when the event loop is free: behind the CPU work queued before them.
    if ((event.kind === SEND || (event.kind === SINK_DONE && batchWaited[event.attempt] === 1)) && cpu.busyAt(now)) {
      events.push(cpu.freeAt(now), event.kind, event.request, event.attempt, event.value);
      continue;
    }
    switch (event.kind) {
      case SEND:
        send(event.request, event.attempt, now);
        break;
      case SERVICE_END:
        endService(event.request, event.attempt, event.value, now);
        break;
      case CLIENT_TIMEOUT: {
        const request = event.request;
        // An answer due exactly at the deadline counts as in time ("within timeoutMs").
        if (awaiting[request] === 1 && attemptOf[request] === event.attempt && answerAtMs[request]! > now) {
          // Aborting a request destroys its connection, or gives up the one it was waiting for.
          if (!originOf[request]!.free) connections.close(connOf[request]!, now);
          fail(request, event.attempt, TIMEOUT, now, backoffAfterMs(backoffMs, event.attempt));
        }
        break;
      }
      case CPU_DONE:
        afterCpu(event.request, event.attempt, event.value, now);
        break;
      case SERVER_READ:
        // An attempt the client gave up on while it waited to be read is left out: its timeout (seconds)
        // rarely falls within the servers' delay (a millisecond or so).
        if (awaiting[event.request] === 1 && attemptOf[event.request] === event.attempt) atHost(event.request, event.attempt, now);
        break;
      case SINK_DONE:
        endSinkWrite(event.request, event.value, now);
        break;
      case TCP_CONNECTED: {
        const conn = event.value;
        if (connections.state[conn] !== CONN_CONNECTING) break;
        // The connect ends in an I/O callback: the hello goes once the loop has done the work queued before it.
        const helloSentMs = cpu.run(now, connectHelloCpuMs);
        if (serverConnectMs > 0) events.push(helloSentMs, AT_SERVERS, event.request, event.attempt, conn);
        else events.push(helloSentMs + connections.tlsRoundTripMs(conn), CONNECTED, event.request, event.attempt, conn);
        break;
      }
      case AT_SERVERS:
        if (connections.state[event.value] === CONN_CONNECTING) connections.atServers(event.value, now);
        break;
      case SERVER_HANDSHAKE_DONE:
        connections.handshakeDone(event.value, now);
        break;
      case CONNECTED: {
        const conn = event.value;
        // Closed meanwhile: the client gave up on the attempt.
        if (connections.state[conn] !== CONN_CONNECTING) break;
        if (connectCpuMs > 0) runOnCpu(now, connectCpuMs, event.request, event.attempt, CONNECT_WORK);
        else {
          connections.state[conn] = CONN_OPEN;
          arrive(event.request, event.attempt, now);
        }
        break;
      }
    }
  }

  return {
    makespanMs,
    requests: n,
    errors,
    retries,
    errorsByKind,
    requestLatencyMs: Array.from(latencyMs),
    cpuWorkMs: cpu.workMs,
    rowsWritten,
    connectionsOpened: freeConnectionsOpened + connections.opened,
    ...(timeline ? { timeline } : {}),
  };
}
