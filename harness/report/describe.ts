import type { Distribution, Scenario } from '../scenario/schema.ts';
import { formatCount, formatRate } from './format.ts';

/** Scenario settings in words, for the report's method section. */

export function describeDistribution(d: Distribution, unit: string): string {
  switch (d.dist) {
    case 'fixed':
      return `${d.value} ${unit}`;
    case 'uniform':
      return `${d.min} to ${d.max} ${unit}, uniform`;
    case 'normal':
      return `normal, mean ${d.mean} ${unit}, sd ${d.sd} ${unit}`;
    case 'lognormal':
      return `lognormal, median ${d.median} ${unit}, p99 ${d.p99} ${unit}`;
    case 'empirical':
      return `${formatCount(d.samples.length)} recorded samples`;
  }
}

/** The database the rows went to; a literal connection string is not repeated (it may hold a password). */
export function describeSink(sink: Scenario['sink']): string {
  const pool = `pool of ${sink.poolSize}, batches of ${sink.batchSize}`;
  switch (sink.kind) {
    case 'model':
      return `latency model: ${describeDistribution(sink.latencyMs, 'ms')} per write, ${pool}`;
    case 'postgres':
      return `PostgreSQL (${sink.url.startsWith('env:') ? sink.url : 'a postgres:// URL'}), table ${sink.table}, ${pool}`;
    case 'pglite':
      return `PGlite ${sink.dataDir ? `in ${sink.dataDir}` : 'in memory'}, table ${sink.table}, ${pool}`;
  }
}

/** The job that ran: the user's handler or the built-in scraper. */
export function describeJob(scenario: Scenario): string {
  const workload = scenario.workload;
  if (!workload) return 'the built-in scraper (fetch, p-limit)';
  if ('module' in workload) return `your handler: export "${workload.export}" of ${workload.module}`;
  if ('template' in workload) return `your function: ${workload.function} of ${workload.template}`;
  return `your function: ${workload.function.handler} (${workload.function.runtime}) in ${workload.function.codeUri}`;
}

/** "100 requests to news.example" or the URL itself, one line per group. */
export function describeRequests(scenario: Scenario): string[] {
  return scenario.requests.map((group) =>
    'url' in group ? group.url : `${formatCount(group.count)} request${group.count === 1 ? '' : 's'} to ${group.host}${group.path ?? ''}`,
  );
}

export function totalRequests(scenario: Scenario): number {
  return scenario.requests.reduce((sum, group) => sum + ('url' in group ? 1 : group.count), 0);
}

export interface HostDescription {
  host: string;
  latency: string;
  capacity: string;
  rateLimit: string;
  faults: string;
}

export function describeHosts(scenario: Scenario): HostDescription[] {
  return Object.entries(scenario.hosts).map(([host, spec]) => ({
    host,
    latency: describeDistribution(spec.latencyMs, 'ms'),
    capacity: spec.capacity === undefined ? 'unlimited' : `${spec.capacity} at once`,
    rateLimit: spec.rateLimit ? `${spec.rateLimit.rps} req/s, burst ${spec.rateLimit.burst ?? Math.max(1, spec.rateLimit.rps)}` : 'none',
    faults: `5xx ${formatRate(spec.errorRate)}, timeouts ${formatRate(spec.timeoutRate)}, resets ${formatRate(spec.resetRate)}`,
  }));
}
