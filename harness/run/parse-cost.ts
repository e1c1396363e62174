import { Bench } from 'tinybench';
import { BodyFactory } from '../mock/bodies.ts';
import { fitParseCost, NO_PARSE, type ParseCost } from '../model/calibrate.ts';
import { drawAttempt, planRequests } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { parseBody } from '../workload/parse.ts';
import { processCpuMs } from './thread-cpu.ts';

/** Body sizes to time the parse at: the smallest, the largest and quantiles between them. */
export function sampleBodySizes(scenario: Scenario, count = 4): number[] {
  const sizes = [...new Set(planRequests(scenario).map((r) => drawAttempt(scenario, r.host, r.index, 0).bodyBytes))].sort((a, b) => a - b);
  if (sizes.length <= count) return sizes;
  return [...new Set(Array.from({ length: count }, (_, k) => sizes[Math.round((k * (sizes.length - 1)) / (count - 1))]!))];
}

/**
 * Times the job's real parse of the scenario's own bodies (the bodies the mock serves) with
 * tinybench, on this process's core, and fits ms = fixed + perByte x bytes. A few tens of ms per
 * size: the calibration of a sweep, not a benchmark of the parser.
 */
export async function measureParseCost(scenario: Scenario, options: { timeMsPerSize?: number } = {}): Promise<ParseCost> {
  const kind = scenario.work.parse;
  if (kind === 'none') return NO_PARSE;
  const factory = new BodyFactory();
  const timeMs = options.timeMsPerSize ?? 40;
  // Timed in CPU time, not wall time: on a busy machine the wall clock counts other processes too,
  // while the replay's CPU times do not.
  const bench = new Bench({
    time: timeMs,
    iterations: 5,
    warmupTime: timeMs / 4,
    warmupIterations: 3,
    timestampProvider: { name: 'process-cpu', fn: processCpuMs, toMs: (value) => Number(value), fromMs: (ms) => ms },
  });
  const sizes = sampleBodySizes(scenario);
  for (const bytes of sizes) {
    // A string decoded from bytes, as the client hands it to the parse.
    const body = Buffer.from(factory.build(kind, bytes, 1)).toString();
    bench.add(String(bytes), () => {
      parseBody(kind, body);
    });
  }
  await bench.run();
  const points = bench.tasks.flatMap((task) => {
    const result = task.result;
    return result.state === 'completed' ? [{ bodyBytes: Number(task.name), ms: result.latency.mean }] : [];
  });
  return fitParseCost(points);
}
