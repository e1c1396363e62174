import { drawAttempt, planRequests } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { BodyFactory, type BodyKind } from './bodies.ts';
import { HostState } from './host.ts';
import { attemptOutcome, ServedTally, type ServedCounts } from './tally.ts';

/**
 * The server side of the job model (docs/job-model.md), independent of how requests are
 * intercepted: a backend turns an intercepted request into `serve(url)` and the answer back into
 * its own response type.
 */
export type ServeOutcome =
  | { kind: 'ok'; body: string; contentType: string }
  | { kind: 'status'; status: number; headers: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'no-answer' }
  | { kind: 'unmocked' };

const CONTENT_TYPE: Record<BodyKind, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json',
  none: 'application/octet-stream',
};

export class ReplayServer {
  private readonly indexByUrl = new Map<string, number>();
  private readonly bodies = new BodyFactory();
  private hosts = new Map<string, HostState>();
  private arrivals = new Map<number, number>();
  private unmocked: string[] = [];
  private failures: string[] = [];
  private served: ServedTally;
  private readonly bodyKind: BodyKind;
  private timeScale = 1;

  constructor(
    private readonly scenario: Scenario,
    private readonly baseTimeScale: number,
  ) {
    // A URL listed twice is one request fetched twice: later arrivals count as further attempts.
    for (const request of planRequests(scenario)) {
      if (!this.indexByUrl.has(request.url)) this.indexByUrl.set(request.url, request.index);
    }
    this.bodyKind = scenario.work.parse;
    this.served = new ServedTally(baseTimeScale);
    this.beginInvocation();
  }

  /** Latencies of this invocation run `timeScale` times shorter (the warm-up runs much faster). */
  beginInvocation(timeScale = this.baseTimeScale): void {
    this.timeScale = timeScale;
    const now = performance.now();
    this.hosts = new Map(
      Object.entries(this.scenario.hosts).map(([name, spec]) => [name, new HostState(spec, now, this.timeScale)]),
    );
    this.arrivals = new Map();
    this.unmocked = [];
    this.failures = [];
    this.served = new ServedTally(this.timeScale);
  }

  /** What was served since the last beginInvocation: the counts of a job that reports none. */
  servedCounts(): ServedCounts {
    return this.served.counts();
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

  /** Serves one attempt and counts it; `aborted` resolves when the client gives up. */
  async serve(url: string, aborted: Promise<void>): Promise<ServeOutcome> {
    const sentAt = performance.now();
    let gaveUpAt: number | undefined;
    void aborted.then(() => {
      gaveUpAt ??= performance.now();
    });
    const outcome = await this.replay(url, aborted);
    if (outcome.kind !== 'unmocked') {
      // An answer the client no longer waited for is a timeout on its side, whatever was sent.
      this.served.record(url, gaveUpAt === undefined ? attemptOutcome(outcome) : 'timeout', sentAt, gaveUpAt ?? performance.now());
    }
    return outcome;
  }

  private async replay(url: string, aborted: Promise<void>): Promise<ServeOutcome> {
    const host = this.hosts.get(hostOf(url));
    const index = this.indexByUrl.get(url);
    if (!host || index === undefined) {
      this.unmocked.push(url);
      return { kind: 'unmocked' };
    }
    const attempt = this.arrivals.get(index) ?? 0;
    this.arrivals.set(index, attempt + 1);

    const waitMs = host.admit(performance.now());
    const spec = host.spec;
    if (waitMs > 0) {
      return {
        kind: 'status',
        status: 429,
        headers:
          spec.rateLimit?.retryAfter === 'seconds'
            ? { 'retry-after': String(Math.ceil(waitMs / 1000)) }
            : { 'retry-after-ms': String(waitMs), 'retry-after': String(Math.ceil(waitMs / 1000)) },
      };
    }
    const draw = drawAttempt(this.scenario, hostOf(url), index, attempt);
    const queued = host.acquire();
    if (queued) await queued;
    await sleep(draw.latencyMs / this.timeScale);
    host.release();
    switch (draw.fault) {
      case 'none':
        return { kind: 'ok', body: this.bodies.body(this.bodyKind, draw.bodyBytes, index), contentType: CONTENT_TYPE[this.bodyKind] };
      case 'error':
        return { kind: 'status', status: 503, headers: {} };
      case 'reset':
        return { kind: 'reset' };
      case 'timeout':
        // Nothing is ever sent; the client gives up on its own clock.
        await aborted;
        return { kind: 'no-answer' };
    }
  }
}

/** The host of an absolute http(s) URL without building a URL object on every request. */
export function hostOf(url: string): string {
  const start = url.indexOf('//') + 2;
  let end = start;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    // '/', ':', '?', '#' end the host
    if (c === 47 || c === 58 || c === 63 || c === 35) break;
    end++;
  }
  return url.slice(start, end).toLowerCase();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
