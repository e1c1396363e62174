import { afterEach, describe, expect, it } from 'vitest';
import type { MockBackend } from '../harness/mock/backend.ts';
import { createBackend } from '../harness/mock/choose-backend.ts';
import { modelCell, type RepCpu } from '../harness/model/calibrate.ts';
import { measureParseCost } from '../harness/run/parse-cost.ts';
import { mainThreadCpuClock } from '../harness/run/thread-cpu.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';
import { ModelSink } from '../harness/workload/sink.ts';
import { runScraper } from '../harness/workload/scraper.ts';

/**
 * A job whose parse (100 KB of HTML per page) is a real share of its duration once scaled, with
 * latencies long enough that the 1 ms granularity of Node's timers, S ms of scenario time per
 * wait, stays small beside them.
 */
const parseHeavy = scenarioSchema.parse({
  name: 'parse-heavy',
  seed: 3,
  requests: [{ host: 'a.example', count: 48 }],
  hosts: { 'a.example': { latencyMs: { dist: 'uniform', min: 150, max: 250 }, bodyBytes: { dist: 'fixed', value: 100_000 }, capacity: 12 } },
  work: { parse: 'html' },
  sink: { latencyMs: { dist: 'fixed', value: 0 }, poolSize: 4 },
  client: { library: 'undici' },
});

const loopCpu = mainThreadCpuClock();
let backend: MockBackend | undefined;
afterEach(() => backend?.stop());

/** One warm-up and three timed invocations at concurrency 12; the median duration and the reps' CPU. */
async function replay(timeScale: number): Promise<{ medianMs: number; reps: RepCpu[] }> {
  backend = createBackend({ scenario: parseHeavy, timeScale });
  backend.start();
  const reps: Array<RepCpu & { durationMs: number }> = [];
  for (let i = 0; i < 4; i++) {
    backend.beginInvocation();
    const before = process.cpuUsage();
    const loopBefore = loopCpu?.();
    const outcome = await runScraper(parseHeavy, { concurrency: 12, timeScale, sink: new ModelSink(parseHeavy, timeScale) });
    const cpu = process.cpuUsage(before);
    if (i === 0) continue;
    reps.push({
      ...outcome,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ...(loopCpu && loopBefore !== undefined ? { loopCpuMs: loopCpu() - loopBefore } : {}),
      mockCpuMs: backend.mockCpuMs(),
    });
  }
  backend.stop();
  backend = undefined;
  return { medianMs: reps.map((rep) => rep.durationMs).sort((a, b) => a - b)[1]!, reps };
}

describe('time scaling', () => {
  it('agrees with real time within 10% once the simulator takes out the CPU time the scaling stretched', async () => {
    const parse = await measureParseCost(parseHeavy);
    const realTime = await replay(1);
    const scaled = await replay(4);
    const model = modelCell(parseHeavy, { concurrency: 12, memoryMb: 1769, reps: scaled.reps }, { timeScale: 4, throttled: false, cores: 2 }, parse);
    const corrected = scaled.medianMs - model.timeScaleCorrectionMs;
    // The parse looks 4 times slower in scaled time: the correction is a real share of the duration.
    // Alone on this machine it is 5% and more; beside the rest of the suite, whose processes slow
    // the timed parse and the replays unevenly, 2.7% and 3.7% were seen, so the guard is 2%.
    expect(model.timeScaleCorrectionMs / realTime.medianMs).toBeGreaterThan(0.02);
    expect(corrected / realTime.medianMs).toBeGreaterThan(0.9);
    expect(corrected / realTime.medianMs).toBeLessThan(1.1);
  });
});
