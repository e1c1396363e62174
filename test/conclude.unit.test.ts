import { describe, expect, it } from 'vitest';
import { concludeSweep } from '../harness/sweep/conclude.ts';
import { completedCell, failedCell, results } from './fixtures/results.ts';

const priced = (concurrency: number, medianMs: number, perMonth: number) =>
  completedCell(concurrency, 512, medianMs, {
    costUsd: { perInvocation: perMonth / 8640, perMonth },
    cpuMs: { median: 100, mean: 100, p95: 100, ci95: [100, 100] },
  });

describe('concluding a grid, as a sweep and a merge do', () => {
  it("recommends with the race's decision and says what limits the job", () => {
    const concluded = concludeSweep(results([priced(1, 9000, 2), priced(4, 3000, 0.8)]), { recommend: { maxErrorRate: 0.01 }, equivalence: 0.02 });
    expect(concluded.recommendation).toMatchObject({ concurrency: 4, decision: { outcome: 'separated', compared: [] } });
    expect(concluded.classification).toMatchObject({ kind: 'io-bound', concurrency: 4, memoryMb: 512 });
    expect(concluded.warnings).toEqual([]);
  });

  it("warns when nothing is feasible, and replaces a shard's stale classification", () => {
    const stale = results([failedCell(4, 512, 'oom', 'out of memory')], {
      classification: { kind: 'cpu-bound', concurrency: 1, memoryMb: 128, cpuBusy: 1, bestIsHighest: true, advice: 'from one shard' },
    });
    const concluded = concludeSweep(stale, { recommend: {}, equivalence: 0.02 });
    expect(concluded.recommendation).toBeNull();
    expect(concluded.warnings).toEqual([
      'No recommendation: no feasible setting among 1 cell: 1 ran out of memory; the job needs more memory than the sizes swept; sweep larger sizes with --memory',
    ]);
    expect(concluded.classification).toBeUndefined();
  });

  it('recommends a simulated grid without a race', () => {
    const concluded = concludeSweep(results([priced(4, 3000, 0.8)]), { recommend: {}, equivalence: 0.02, simulated: true });
    expect(concluded.recommendation?.decision).toBeUndefined();
  });
});
