import { setTimeout as sleep } from 'node:timers/promises';
import { TimerLateness } from '../run/timer-lateness.ts';
import { drawAttempt, planRequests, type AttemptDraw } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { BodyFactory, type BodyKind } from './bodies.ts';
import { HostState } from './host.ts';
import { attemptOutcome, ServedTally, type ServedCounts } from './tally.ts';

/**
 * A 200 answer, built once per page and handed out for every attempt that fetches it, so that
 * backends can cache their own form of it (keyed by this object) and nothing is built on the
 * request path.
 */
export interface OkAnswer {
  readonly kind: 'ok';
  readonly body: Buffer;
  readonly contentType: string;
  /** content-type and content-length. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The server side of the job model (docs/job-model.md), independent of how requests are
 * intercepted: a backend turns an intercepted request into `serve(url)` and the answer back into
 * its own response type.
 */
export type ServeOutcome =
  OkAnswer | { kind: 'status'; status: number; headers: Record<string, string> } | { kind: 'reset' } | { kind: 'no-answer' } | { kind: 'unmocked' };

/** The client of one exchange, as far as a host that never answers cares. */
export interface WaitingClient {
  /** Resolves when the client gives up on the attempt (its timeout). */
  gaveUp(): Promise<void>;
  /** Whether the client has given up already: an answer after that is a timeout on its side. */
  hasGivenUp(): boolean;
}

const CONTENT_TYPE: Record<BodyKind, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json',
  none: 'application/octet-stream',
};

/**
 * Prebuilt bodies are kept up to this many bytes; past it a body is built per request. The cache
 * lives in the job's process and so counts in its peak RSS: it must stay small next to a Lambda
 * memory size.
 */
const BODY_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * The mock's CPU is timed with the wall clock around its own synchronous work, which takes
 * microseconds. A longer span means the process was descheduled meanwhile (a cgroup quota runs
 * out every period at small memory sizes, or a GC pause struck): it is left out rather than
 * charged to the mock, which would overstate the mock's share many times at small sizes.
 */
export const MOCK_SPAN_LIMIT_MS = 2;

const SERVER_ERROR: ServeOutcome = { kind: 'status', status: 503, headers: {} };
const RESET: ServeOutcome = { kind: 'reset' };
const NO_ANSWER: ServeOutcome = { kind: 'no-answer' };
const UNMOCKED: ServeOutcome = { kind: 'unmocked' };

export class ReplayServer {
  private readonly indexByUrl = new Map<string, number>();
  private readonly hostByIndex: string[] = [];
  private readonly hostNames: string[];
  /** Per request index: the position of its host in `hostNames` and `hostStates`. */
  private readonly hostIdByIndex: Uint32Array;
  private readonly bodies = new BodyFactory();
  private readonly bodyKind: BodyKind;
  private readonly contentType: string;
  /** Per request index: its first attempt's draw, and its 200 answer once built. */
  private readonly firstDraws: AttemptDraw[] = [];
  private readonly okAnswers: Array<OkAnswer | undefined> = [];
  /** 'none' bodies do not depend on the page: one per size. */
  private readonly blankAnswers = new Map<number, OkAnswer>();
  private cachedBytes = 0;
  private hostStates: HostState[] = [];
  private arrivals: Uint32Array;
  private unmocked: string[] = [];
  private failures: string[] = [];
  private cpuMs = 0;
  private timeScale = 1;
  private served = new ServedTally(1);
  private latencyTimers = new TimerLateness();

  constructor(
    private readonly scenario: Scenario,
    private readonly baseTimeScale: number,
  ) {
    // A URL listed twice is one request fetched twice: later arrivals count as further attempts.
    for (const request of planRequests(scenario)) {
      // Clients may send the URL as written or as the URL parser normalises it: both are known.
      for (const form of [request.url, normalizedUrl(request.url)]) {
        if (!this.indexByUrl.has(form)) this.indexByUrl.set(form, request.index);
      }
      this.hostByIndex[request.index] = request.host;
      this.firstDraws[request.index] = drawAttempt(scenario, request.host, request.index, 0);
    }
    this.hostNames = Object.keys(scenario.hosts);
    const hostId = new Map(this.hostNames.map((name, id) => [name, id]));
    this.hostIdByIndex = Uint32Array.from(this.hostByIndex, (name) => hostId.get(name)!);
    this.bodyKind = scenario.work.parse;
    this.contentType = CONTENT_TYPE[this.bodyKind];
    this.arrivals = new Uint32Array(this.hostByIndex.length);
    this.beginInvocation();
  }

  /** Latencies of this invocation run `timeScale` times shorter (the warm-up runs much faster). */
  beginInvocation(timeScale = this.baseTimeScale): void {
    this.timeScale = timeScale;
    this.served = new ServedTally(timeScale);
    const now = performance.now();
    this.hostStates = this.hostNames.map((name) => new HostState(this.scenario.hosts[name]!, now, this.timeScale));
    this.arrivals.fill(0);
    this.unmocked = [];
    this.failures = [];
    this.cpuMs = 0;
    this.latencyTimers = new TimerLateness();
  }

  recordFailure(description: string): void {
    this.failures.push(description);
  }

  mockFailures(): readonly string[] {
    return this.failures;
  }

  unmockedRequests(): readonly string[] {
    return this.unmocked;
  }

  /** CPU time of the mock's own work since beginInvocation (backends add theirs with `chargeCpu`), ms. */
  mockCpuMs(): number {
    return this.cpuMs;
  }

  /** How late, on average, the hosts' latency timers fired since beginInvocation: real ms, or undefined when none ran. */
  latencyTimerLateMs(): number | undefined {
    return this.latencyTimers.meanMs();
  }

  /** Adds a backend's own synchronous work (building its response) to the mock's CPU time. */
  chargeCpu(ms: number): void {
    if (ms < MOCK_SPAN_LIMIT_MS) this.cpuMs += ms;
  }

  /**
   * Serves one attempt. `client.gaveUp()` is asked for only when the drawn fault is a timeout:
   * the host then sends nothing, and the exchange ends when the client aborts.
   */
  serve(url: string, client: WaitingClient): Promise<ServeOutcome> {
    const started = performance.now();
    const outcome = this.arrive(url, client);
    this.chargeCpu(performance.now() - started);
    return this.tallied(url, started, outcome, client);
  }

  /** The URLs requested since the last beginInvocation, in the order they first arrived. */
  requestOrder(): string[] {
    return this.served.order();
  }

  /** What was served since the last beginInvocation: the counts of a job that reports none. */
  servedCounts(): ServedCounts {
    return this.served.counts();
  }

  private async tallied(url: string, sentAt: number, pending: Promise<ServeOutcome>, client: WaitingClient): Promise<ServeOutcome> {
    const outcome = await pending;
    if (outcome.kind !== 'unmocked') {
      // An answer the client no longer waited for is a timeout on its side, whatever was sent.
      this.served.record(url, client.hasGivenUp() ? 'timeout' : attemptOutcome(outcome), sentAt, performance.now());
    }
    return outcome;
  }

  /** The synchronous part: lookup, token bucket, draw, and a place in the host's queue. */
  private arrive(url: string, client: WaitingClient): Promise<ServeOutcome> {
    // Only the scenario's own URLs are served: any other URL, on a known host or not, is refused.
    const index = this.indexByUrl.get(url) ?? this.indexByUrl.get(normalizedUrl(url));
    if (index === undefined) {
      this.unmocked.push(url);
      return Promise.resolve(UNMOCKED);
    }
    const host = this.hostStates[this.hostIdByIndex[index]!]!;
    const attempt = this.arrivals[index]!++;
    const waitMs = host.admit(performance.now());
    if (waitMs > 0) {
      const headers: Record<string, string> =
        host.spec.rateLimit?.retryAfter === 'seconds'
          ? { 'retry-after': String(Math.ceil(waitMs / 1000)) }
          : { 'retry-after-ms': String(waitMs), 'retry-after': String(Math.ceil(waitMs / 1000)) };
      return Promise.resolve({ kind: 'status', status: 429, headers });
    }
    const draw = attempt === 0 ? this.firstDraws[index]! : drawAttempt(this.scenario, this.hostByIndex[index]!, index, attempt);
    return this.respond(host, host.acquire(), draw, index, client);
  }

  private async respond(host: HostState, queued: Promise<void> | undefined, draw: AttemptDraw, index: number, client: WaitingClient): Promise<ServeOutcome> {
    if (queued) await queued;
    // Timed here rather than through TimerLateness.sleep: no extra promise per attempt, and the
    // clock read after the wait is the one that times the mock's work.
    const waitMs = draw.latencyMs / this.timeScale;
    const waitStarted = performance.now();
    await sleep(waitMs);
    const started = performance.now();
    this.latencyTimers.record(waitMs, started - waitStarted);
    host.release();
    let outcome: ServeOutcome;
    switch (draw.fault) {
      case 'none':
        outcome = this.okAnswer(index, draw.bodyBytes);
        break;
      case 'error':
        outcome = SERVER_ERROR;
        break;
      case 'reset':
        outcome = RESET;
        break;
      case 'timeout':
        outcome = NO_ANSWER;
        break;
    }
    this.chargeCpu(performance.now() - started);
    // Nothing is ever sent; the client gives up on its own clock.
    if (outcome === NO_ANSWER) await client.gaveUp();
    return outcome;
  }

  private okAnswer(index: number, bytes: number): OkAnswer {
    if (this.bodyKind === 'none') {
      let blank = this.blankAnswers.get(bytes);
      if (!blank) {
        blank = this.buildAnswer(index, bytes);
        this.blankAnswers.set(bytes, blank);
      }
      return blank;
    }
    const cached = this.okAnswers[index];
    if (cached) return cached;
    const answer = this.buildAnswer(index, bytes);
    if (this.cachedBytes + bytes <= BODY_CACHE_BYTES) {
      this.okAnswers[index] = answer;
      this.cachedBytes += bytes;
    }
    return answer;
  }

  private buildAnswer(index: number, bytes: number): OkAnswer {
    const body = Buffer.from(this.bodies.build(this.bodyKind, bytes, index));
    return { kind: 'ok', body, contentType: this.contentType, headers: { 'content-type': this.contentType, 'content-length': String(body.length) } };
  }
}

function normalizedUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
