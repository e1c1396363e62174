import { describe, expect, it } from 'vitest';
import { projectedWhereUnfaithful, sayDurationSource } from '../harness/analyze/projected-where-unfaithful.ts';
import { recommend } from '../harness/analyze/recommend.ts';
import { isCompleted } from '../harness/results/schema.ts';
import { completedCell, failedCell, tinyScenario } from './fixtures/results.ts';

// At 1769 MB and the default 8,640 invocations a month in us-east-1 (x86_64: $0.0000166667 per GB-s).
const usdPerMonthPerMs = (1769 / 1024 / 1000) * 0.0000166667 * 8640;

describe('the recommendation from the projection where the replay is not faithful', () => {
  // Unfaithful where the harness is judged (the largest size, a whole core): measured 1000 ms, projected 800.
  const unfaithful = completedCell(64, 1769, 1000, { fidelityRatio: 1.3, projectedMs: 800, costUsd: { perInvocation: 0.00003, perMonth: 0.3 } });
  const faithful = completedCell(32, 1769, 900, { fidelityRatio: 1.05, projectedMs: 880, costUsd: { perInvocation: 0.00003, perMonth: 0.27 } });
  // Below a core the job's own CPU share may be what is slow: not judged, left as measured.
  const small = completedCell(64, 512, 1200, { fidelityRatio: 1.4, projectedMs: 700 });

  it('scales the repetitions of an unfaithful cell to its projection, and its billed duration and cost with them', () => {
    const { cells, projected } = projectedWhereUnfaithful([unfaithful, faithful, small, failedCell(128, 1769, 'timeout', 'too slow')], tinyScenario);
    expect(projected.map((cell) => `${cell.concurrency}@${cell.memoryMb}`)).toEqual(['64@1769']);
    expect(cells[1]).toBe(faithful);
    expect(cells[2]).toBe(small);
    const replaced = cells[0]!;
    if (!isCompleted(replaced)) throw new Error('the projected cell must stay completed');
    expect(replaced.reps.map((rep) => rep.durationMs)).toEqual([784, 800, 816]);
    expect(replaced.durationMs.median).toBe(800);
    expect(replaced.billedMs).toBe(800);
    expect(replaced.costUsd.perMonth).toBeCloseTo(0.3 - 200 * usdPerMonthPerMs, 12);
    expect(replaced.fidelityRatio).toBe(1.3);
  });

  it('leaves a deployed function as measured: its fidelity judges the function, not the harness', () => {
    const { cells, projected } = projectedWhereUnfaithful([unfaithful], tinyScenario, { deployedFunction: true });
    expect(projected).toEqual([]);
    expect(cells[0]).toBe(unfaithful);
  });

  it('says which duration the pick came from, and why when it is a projection', () => {
    const { cells, projected } = projectedWhereUnfaithful([unfaithful, faithful], tinyScenario);
    const bySpeed = sayDurationSource(recommend(cells, { strategy: 'speed' }), projected);
    if (bySpeed.kind !== 'picked') throw new Error('expected a pick');
    expect(bySpeed.recommendation).toMatchObject({ concurrency: 64, durationMs: 800, durationFrom: 'projection' });
    expect(bySpeed.recommendation.why).toMatch(
      /Its duration is the simulator's projection: the replay ran at 1\.30x its ideal there \(limit 1\.1\), so its measurement shows the harness more than the job\.$/,
    );
    // Measured as it was, the unfaithful cell (1000 ms) loses to the faithful one (900 ms).
    const asMeasured = sayDurationSource(recommend([unfaithful, faithful], { strategy: 'speed' }), []);
    if (asMeasured.kind !== 'picked') throw new Error('expected a pick');
    expect(asMeasured.recommendation).toMatchObject({ concurrency: 32, durationFrom: 'measurement' });
  });
});
