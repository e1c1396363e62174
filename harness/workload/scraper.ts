import pLimit from 'p-limit';
export { retryAfterMs } from './http-client.ts';
import { backoffAfterMs } from '../model/backoff.ts';
import type { ErrorsByKind } from '../results/schema.ts';
import { planRequests, type PlannedRequest } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { AttemptDeadline, httpGetFor, outOfFileDescriptors, type HttpGet } from './http-client.ts';
import { parseBody } from './parse.ts';
import type { ParsePool } from './parse-pool.ts';
import type { Sink } from './sink.ts';

/** What one invocation of the job did, in scenario (unscaled) milliseconds. */
export interface InvocationOutcome {
  durationMs: number;
  requests: number;
  errors: number;
  retries: number;
  errorsByKind: ErrorsByKind;
  /** Per request, from its first send to its final outcome. */
  requestLatenciesMs: number[];
  rowsWritten: number;
  /** Attempts (counted as resets too) whose socket could not open: the process had no file descriptor left. */
  descriptorFailures: number;
}

export interface ScraperOptions {
  concurrency: number;
  /** Latencies run this many times shorter: client timeouts and waits shrink with them. */
  timeScale: number;
  sink: Sink;
  /** Overrides the scenario's `client.library`. */
  get?: HttpGet;
  /** Parses off the event loop (work.threads > 0); the main thread parses when absent. */
  pool?: ParsePool;
}

type FailureKind = keyof ErrorsByKind;

export function emptyErrorsByKind(): ErrorsByKind {
  return { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 };
}

/**
 * The built-in scraping job (docs/job-model.md): GET every URL with the scenario's client
 * (global fetch or undici.request) under
 * p-limit(concurrency), a client timeout, retries with backoff that honour Retry-After, parse
 * the body and write a row to the sink.
 */
export async function runScraper(scenario: Scenario, options: ScraperOptions): Promise<InvocationOutcome> {
  const { timeScale, sink } = options;
  const { timeoutMs, retries, backoffMs } = scenario.client;
  const parseKind = scenario.work.parse;
  const get = options.get ?? httpGetFor(scenario.client.library);
  const pool = parseKind === 'none' ? undefined : options.pool;
  const limit = pLimit(options.concurrency);
  const errorsByKind = emptyErrorsByKind();
  let errors = 0;
  let retriesMade = 0;
  let descriptorFailures = 0;
  const requests = planRequests(scenario);
  const latencies = new Array<number>(requests.length);

  async function fetchOne(request: PlannedRequest): Promise<void> {
    const sentAt = performance.now();
    for (let attempt = 0; ; attempt++) {
      let failure: FailureKind;
      let waitMs = backoffAfterMs(backoffMs, attempt) / timeScale;
      const deadline = new AttemptDeadline(timeoutMs / timeScale);
      try {
        const answer = await get(request.url, deadline, parseKind !== 'none');
        deadline.clear();
        if (answer.status === 200) {
          // The request's latency ends when its answer is in, before the parse (docs/job-model.md).
          latencies[request.index] = (performance.now() - sentAt) * timeScale;
          const page = pool ? await pool.parse(parseKind, answer.text) : parseBody(parseKind, answer.text);
          await sink.write({ url: request.url, title: page.title, links: page.links });
          return;
        }
        if (answer.status === 429) {
          failure = 'http429';
          waitMs = answer.retryAfterMs / timeScale;
        } else if (answer.status >= 500) {
          failure = 'http5xx';
        } else {
          failure = 'other';
        }
      } catch (error) {
        deadline.clear();
        failure = deadline.expired ? 'timeout' : 'reset';
        if (outOfFileDescriptors(error)) descriptorFailures++;
      }
      errorsByKind[failure]++;
      if (attempt >= retries || failure === 'other') {
        errors++;
        latencies[request.index] = (performance.now() - sentAt) * timeScale;
        return;
      }
      retriesMade++;
      await sleep(waitMs);
    }
  }

  const started = performance.now();
  await Promise.all(requests.map((request) => limit(() => fetchOne(request))));
  await sink.flush();
  const durationMs = (performance.now() - started) * timeScale;
  return {
    durationMs,
    requests: requests.length,
    errors,
    retries: retriesMade,
    errorsByKind,
    requestLatenciesMs: latencies,
    rowsWritten: sink.rowsWritten,
    descriptorFailures,
  };
}
