import { sample } from './distributions.ts';
import { STREAM, uniformAt } from './random.ts';
import { LIMITS } from './limits.ts';
import type { Scenario } from './schema.ts';

/** One request of the job, in the order the job issues them. */
export interface PlannedRequest {
  index: number;
  url: string;
  host: string;
}

export type Fault = 'none' | 'error' | 'timeout' | 'reset';

/** What the server does with one attempt of one request: the same in every cell. */
export interface AttemptDraw {
  latencyMs: number;
  bodyBytes: number;
  fault: Fault;
}

export function planRequests(scenario: Scenario): PlannedRequest[] {
  const planned: PlannedRequest[] = [];
  for (const group of scenario.requests) {
    if ('url' in group) {
      planned.push({ index: planned.length, url: group.url, host: new URL(group.url).hostname });
      continue;
    }
    const prefix = group.path ?? '/page/';
    for (let i = 0; i < group.count; i++) {
      const index = planned.length;
      planned.push({ index, url: `https://${group.host}${prefix}${index}`, host: group.host });
    }
  }
  return planned;
}

export function drawAttempt(scenario: Scenario, host: string, index: number, attempt: number): AttemptDraw {
  const spec = scenario.hosts[host];
  if (!spec) throw new Error(`host ${host} is not in the scenario`);
  const { seed } = scenario;
  // The schema bounds a distribution's parameters; the tail of a normal or lognormal reaches past
  // them, so draws are capped too: a latency past 2^31 ms would make its timer fire after 1 ms.
  const latencyMs = Math.min(
    LIMITS.timeMs,
    sample(spec.latencyMs, uniformAt(seed, index, attempt, STREAM.latency, 0), uniformAt(seed, index, attempt, STREAM.latency, 1)),
  );
  // A page has one size whichever attempt fetches it.
  const bodyBytes = Math.min(
    LIMITS.bodyBytes,
    Math.round(sample(spec.bodyBytes, uniformAt(seed, index, 0, STREAM.body, 0), uniformAt(seed, index, 0, STREAM.body, 1))),
  );
  const u = uniformAt(seed, index, attempt, STREAM.fault);
  let fault: Fault = 'none';
  if (u < spec.errorRate) fault = 'error';
  else if (u < spec.errorRate + spec.timeoutRate) fault = 'timeout';
  else if (u < spec.errorRate + spec.timeoutRate + spec.resetRate) fault = 'reset';
  return { latencyMs, bodyBytes, fault };
}

/**
 * The sink's latency for the n-th batch written. A real database (postgres, pglite) takes what it
 * takes; the ideal makespan counts it as instant.
 */
export function drawSinkLatency(scenario: Scenario, batchIndex: number): number {
  if (scenario.sink.kind !== 'model') return 0;
  return Math.min(
    LIMITS.timeMs,
    sample(scenario.sink.latencyMs, uniformAt(scenario.seed, batchIndex, 0, STREAM.sink, 0), uniformAt(scenario.seed, batchIndex, 0, STREAM.sink, 1)),
  );
}
