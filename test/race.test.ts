import { describe, expect, it } from 'vitest';
import { decide, judgeRival, MAX_RACE_REPS, pickAmongEquivalent, raceState, screenedGap } from '../harness/analyze/race.ts';
import type { CompletedCell } from '../harness/results/schema.ts';
import { confirmEstimateS, finalistsOf, roundEstimateS } from '../harness/sweep/schedule.ts';
import { confirmationWarnings } from '../harness/sweep/warnings.ts';
import { completedCell, rep } from './fixtures/results.ts';

/** A cell whose repetitions are these durations (ms), median as given, and its monthly cost. */
function raced(concurrency: number, memoryMb: number, durations: number[], perMonth = 1): CompletedCell {
  const sorted = [...durations].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return completedCell(concurrency, memoryMb, median, { reps: durations.map((d) => rep(d)), costUsd: { perInvocation: perMonth / 8640, perMonth } });
}

const margin = { equivalence: 0.02 };
const speed = { strategy: 'speed' };

describe('judging a rival against the winner', () => {
  it('separates a rival that is worse at 95% confidence, with 4 repetitions against 4', () => {
    const judged = judgeRival([100, 101, 102, 103], [110, 111, 112, 113], margin);
    expect(judged.verdict).toBe('separated');
    // No overlap: U = 16 of 16, exact two-sided p = 2 / C(8, 4) = 2 / 70.
    expect(judged.pValue).toBe(2 / 70);
    expect(judged.ratio).toBe(111.5 / 101.5);
    expect(judged.interval[0]).toBeGreaterThan(1);
  });

  it('leaves the same gap open with 3 against 3: no test at 5% can tell them apart', () => {
    const judged = judgeRival([100, 101, 102], [110, 111, 112], margin);
    // Exact two-sided p = 2 / C(6, 3) = 0.1.
    expect(judged.pValue).toBe(0.1);
    expect(judged.verdict).toBe('open');
  });

  it('calls a rival equivalent when the 90% interval of the ratio lies within the margin', () => {
    const winner = [100, 100.5, 101, 100.2, 100.8];
    const rival = [100.3, 100.9, 100.4, 101.1, 100.6];
    const judged = judgeRival(winner, rival, margin);
    expect(judged.verdict).toBe('equivalent');
    expect(judged.ratio).toBe(100.6 / 100.5);
    // Every resampled ratio of medians lies between min(rival)/max(winner) and max(rival)/min(winner).
    expect(judged.interval[0]).toBeGreaterThanOrEqual(100.3 / 101);
    expect(judged.interval[1]).toBeLessThanOrEqual(101.1 / 100);
    // The same repetitions are not equivalent within 0.1%: the interval reaches past it.
    expect(judgeRival(winner, rival, { equivalence: 0.001 }).verdict).toBe('open');
  });

  it('gives no verdict before both sides have 3 repetitions', () => {
    expect(judgeRival([100, 100.1], [100, 100.1], margin).verdict).toBe('open');
    expect(judgeRival([100, 100.1, 100.2], [100.1, 100.2], margin).verdict).toBe('open');
  });
});

describe('where the race stands', () => {
  const winner = raced(60, 128, [100, 101, 102, 103]);
  const worse = raced(64, 128, [110, 111, 112, 113]);
  const far = raced(8, 128, [200]);

  it('races only the settings within 10% of the winner, and measures the winner with the open ones', () => {
    const close = raced(32, 128, [103]);
    const state = raceState([winner, worse, far, close], speed, margin)!;
    expect(state.rivals.map((rival) => [rival.key.concurrency, rival.verdict])).toEqual([
      [32, 'open'],
      [64, 'separated'],
    ]);
    expect(state.outcome).toBe('undecided');
    expect(state.toMeasure.map((key) => key.concurrency)).toEqual([60, 32]);
  });

  it('is separated when every rival is worse at 95% confidence, and needs no more repetitions', () => {
    const state = raceState([winner, worse, far], speed, margin)!;
    expect(state.outcome).toBe('separated');
    expect(state.toMeasure).toEqual([]);
  });

  it('is equivalent when no rival is open and one is within the margin', () => {
    const twin = raced(128, 128, [100.5, 101.5, 102.5, 102.8]);
    const state = raceState([winner, worse, twin], speed, margin)!;
    expect(state.rivals.map((rival) => [rival.key.concurrency, rival.verdict])).toEqual([
      [128, 'equivalent'],
      [64, 'separated'],
    ]);
    expect(state.outcome).toBe('equivalent');
  });

  it(`stops measuring a rival at ${MAX_RACE_REPS} repetitions: the race then ends undecided`, () => {
    // Alternating 100 and 104: medians 102 on both sides, but too spread for a 2% margin or a separation.
    const spread = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? 104 : 100));
    const capped = raceState([raced(60, 128, spread(MAX_RACE_REPS)), raced(64, 128, spread(MAX_RACE_REPS))], speed, { equivalence: 0.001 })!;
    expect(capped.outcome).toBe('undecided');
    expect(capped.toMeasure).toEqual([]);
  });

  it('has nothing to race when no cell is feasible', () => {
    expect(raceState([], speed, margin)).toBeUndefined();
  });
});

describe('the decision in the recommendation', () => {
  it('picks among equivalent settings the cheaper, then the fewer workers, and says so', () => {
    // By speed, 60 workers wins by a hair; 128 workers is equivalent and cheaper.
    const fast = raced(60, 1024, [100, 101, 102, 103], 2);
    const twin = raced(128, 512, [100.5, 101.5, 102.5, 102.8], 1);
    const outcome = decide([fast, twin], speed, { equivalence: 0.02, budgetS: 60 });
    if (outcome.kind !== 'picked') throw new Error('expected a pick');
    const { recommendation } = outcome;
    expect([recommendation.concurrency, recommendation.memoryMb, recommendation.costUsdPerMonth]).toEqual([128, 512, 1]);
    expect(recommendation.decision?.outcome).toBe('equivalent');
    expect(recommendation.decision?.equivalentSet).toEqual([
      { concurrency: 128, memoryMb: 512, architecture: 'x86_64' },
      { concurrency: 60, memoryMb: 1024, architecture: 'x86_64' },
    ]);
    expect(recommendation.decision?.budgetS).toBe(60);
    expect(recommendation.why).toMatch(/^128 workers at 512 MB \(x86_64\), equivalent to the best by speed/);
    expect(recommendation.why).toContain('Equivalent within 2% to 128 workers at 512 MB');
  });

  it('says what is undecided and how to decide it', () => {
    const outcome = decide([raced(60, 128, [100, 101, 102]), raced(32, 128, [103])], speed, { equivalence: 0.02, budgetS: 60 });
    if (outcome.kind !== 'picked') throw new Error('expected a pick');
    expect(outcome.recommendation.decision?.outcome).toBe('undecided');
    expect(outcome.recommendation.why).toContain(
      'Not decided within the 60 s budget: 32 workers at 128 MB (+2%, interval 1.010-1.030) is neither clearly worse nor within 2% (3 repetitions against 1)',
    );
    expect(outcome.recommendation.why).toContain('run with --budget 120 to race longer');
    expect(outcome.recommendation.why).not.toContain('confidence intervals overlap');
  });

  it('orders an equivalent set by cost, then concurrency, then memory', () => {
    const at = (concurrency: number, memoryMb: number, perMonth: number) => raced(concurrency, memoryMb, [100], perMonth);
    expect(pickAmongEquivalent([at(64, 128, 1), at(32, 256, 1), at(32, 128, 1), at(128, 128, 0.9)])).toMatchObject({ concurrency: 128 });
    expect(pickAmongEquivalent([at(64, 128, 1), at(32, 256, 1), at(32, 128, 1)])).toMatchObject({ concurrency: 32, memoryMb: 128 });
  });
});

describe('the time a race round takes', () => {
  it("adds each contender's real duration for two repetitions and a process start, over the lanes", () => {
    const cells = new Map([
      [60, raced(60, 128, [8000])],
      [128, raced(128, 128, [16_000])],
    ]);
    const keys = [...cells.values()].map(({ concurrency, memoryMb, architecture }) => ({ concurrency, memoryMb, architecture }));
    // Time scale 16: 0.5 s and 1 s per invocation; (2 x 0.5 + 1.5) + (2 x 1 + 1.5) = 6 s, over 2 lanes.
    expect(roundEstimateS(keys, (key) => cells.get(key.concurrency), 16, 2)).toBe(3);
    expect(roundEstimateS(keys, (key) => cells.get(key.concurrency), 16, 1)).toBe(6);
  });
});

describe('confirming the finalists in real time', () => {
  it('takes the winner and its equivalents, at most two', () => {
    const winner = raced(60, 128, [100, 101, 102, 103]);
    const twin = raced(128, 128, [100.5, 101.5, 102.5, 102.8]);
    const worse = raced(64, 128, [110, 111, 112, 113]);
    expect(finalistsOf(raceState([winner, twin, worse], speed, margin)).map((key) => key.concurrency)).toEqual([60, 128]);
    expect(finalistsOf(raceState([winner, worse], speed, margin)).map((key) => key.concurrency)).toEqual([60]);
    expect(finalistsOf(undefined)).toEqual([]);
  });

  it('estimates a warm-up and one invocation in real time per finalist, plus a process start, over the lanes', () => {
    const cell = raced(60, 128, [7600]);
    const key = { concurrency: 60, memoryMb: 128, architecture: 'x86_64' as const };
    // 2 x 7.6 s + 1.5 s.
    expect(confirmEstimateS([key], () => cell, 2)).toBeCloseTo(16.7, 12);
    expect(confirmEstimateS([key, key], () => cell, 1)).toBeCloseTo(33.4, 12);
  });

  it("warns when the finalists' real-time runs stray more than 5% from their time-scaled medians, pooled", () => {
    const confirmedAt = (concurrency: number, deviation: number) => ({
      ...raced(concurrency, 128, [7600]),
      confirmed: { reps: 1, durationMs: 7600 * (1 + deviation), deviation },
    });
    expect(confirmationWarnings([confirmedAt(60, 0.049), raced(8, 128, [9000])])).toEqual([]);
    // One noisy repetition (+6.6%) beside one that agrees (-1.3%): +2.65% pooled, no warning.
    expect(confirmationWarnings([confirmedAt(64, 0.066), confirmedAt(128, -0.013)])).toEqual([]);
    expect(confirmationWarnings([confirmedAt(60, 0.08), confirmedAt(64, 0.06)])).toEqual([
      'Confirmation: real-time runs of the finalists, throttled as Lambda throttles, took +7.0% against their time-scaled medians (concurrency 60, 128 MB, x86_64: 8.21 s against 7.60 s (+8.0%); concurrency 64, 128 MB, x86_64: 8.06 s against 7.60 s (+6.0%)): time scaling distorts this job here; sweep the contenders again with --time-scale 1 (and --concurrency/--memory narrowed to them) for durations to deploy on.',
    ]);
  });
});

describe('screening with the simulator beside the one repetition', () => {
  it('keeps a cell whose repetition the machine slowed, when the simulator puts it close', () => {
    const winner = raced(60, 128, [100]);
    // Measured 15% behind; the simulator, from the same repetition's CPU time, 4% (104 less a 0 correction).
    const unlucky = { ...raced(64, 128, [115]), simulatedMs: 104 };
    expect(screenedGap(unlucky, 115, 100)).toBeCloseTo(0.04, 12);
    const state = raceState([winner, unlucky], speed, margin)!;
    expect(state.rivals.map((rival) => rival.key.concurrency)).toEqual([64]);
    // Without the simulator's estimate it is left out of the race.
    expect(raceState([winner, raced(64, 128, [115])], speed, margin)!.rivals).toEqual([]);
  });

  it('takes the time-scale correction off the simulated duration, as off the measured one', () => {
    // Raw simulated 130, correction 20: 110 against a measured (corrected) 110: 10% behind either way.
    const cell = { ...raced(64, 128, [110]), simulatedMs: 130, timeScaleCorrectionMs: 20 };
    expect(screenedGap(cell, 110, 100)).toBeCloseTo(0.1, 12);
  });
});
