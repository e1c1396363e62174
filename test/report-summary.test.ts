import { describe, expect, it } from 'vitest';
import { modifiedZScores, outlierIndexes } from '../harness/analyze/outliers.ts';
import { InputError } from '../harness/errors.ts';
import { cellSentence, costChangeVsOneWorker, costComparison, speedAndCostComparison } from '../harness/report/cell-views.ts';
import { formatPercent, formatRate } from '../harness/report/format.ts';
import { buildSummary, parseSetting } from '../harness/report/summary.ts';
import { reportWarnings } from '../harness/report/warnings.ts';
import { completedCell, rep, results } from './fixtures/results.ts';
import { smallSweep, sweepResults } from './fixtures/sweep-results.ts';

describe('numbers in words', () => {
  it('shows percentages whole and small rates with one decimal', () => {
    expect([formatPercent(0.3797), formatRate(0.0123), formatRate(0.5), formatRate(0)]).toEqual(['38%', '1.2%', '50%', '0%']);
  });

  it('compares two settings in words, whichever way the change goes', () => {
    expect(costComparison(1.87, 1.16, '1 worker')).toBe('38% cheaper than 1 worker');
    expect(costComparison(1, 1.12, '1 worker')).toBe('12% more expensive than 1 worker');
    expect(costComparison(1, 1.004, '1 worker')).toBe('as cheap as 1 worker');
    expect(speedAndCostComparison({ durationMs: 100, costUsdPerMonth: 2 }, { durationMs: 100, costUsdPerMonth: 1 }, 'X')).toBe(
      'as fast as X and 50% cheaper than X',
    );
  });

  it('shows the cost change against 1 worker in tables with a sign, or a dash without a baseline', () => {
    const baseline = completedCell(1, 1024, 23_000, { costUsd: { perInvocation: 0, perMonth: 1.87 } });
    const at = (perMonth: number) => completedCell(60, 1024, 8100, { costUsd: { perInvocation: 0, perMonth } });
    expect([at(1.16), at(2.1), at(1.871)].map((c) => costChangeVsOneWorker(c, baseline))).toEqual(['−38%', '+12%', '0%']);
    expect([costChangeVsOneWorker(baseline, baseline), costChangeVsOneWorker(at(1), undefined)]).toEqual(['–', '–']);
  });

  it('writes the tooltip sentence of the issue for 60 workers at 1024 MB', () => {
    const baseline = completedCell(1, 1024, 23_000, { costUsd: { perInvocation: 0, perMonth: 1.87 } });
    const cell = completedCell(60, 1024, 8100, { costUsd: { perInvocation: 0, perMonth: 1.16 } });
    expect(cellSentence(cell, '1024 MB', baseline)).toBe('1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker');
  });
});

describe('the summary card', () => {
  it('states the saving of the recommendation against 1 worker at the same memory size', () => {
    const summary = buildSummary(smallSweep());
    expect(summary.headline).toBe('60 workers at 1024 MB (x86_64)');
    expect(summary.vsOneWorker).toMatchObject({
      than: '1 worker at 1024 MB',
      durationMs: 23_000,
      costUsdPerMonth: 1.87,
      sentence: '65% faster and 38% cheaper than 1 worker at 1024 MB ($0.71/month saved)',
    });
    expect(summary.vsOneWorker!.fasterBy).toBeCloseTo(1 - 8100 / 23_000, 12);
    expect(summary.vsOneWorker!.cheaperBy).toBeCloseTo(1 - 1.16 / 1.87, 12);
    expect(summary.vsOneWorker!.savedUsdPerMonth).toBeCloseTo(0.71, 12);
    expect(summary.vsCurrent).toBeUndefined();
  });

  it('compares with the current setting, also when switching costs more', () => {
    const summary = buildSummary(smallSweep(), { concurrency: 60, memoryMb: 512 });
    expect(summary.vsCurrent).toMatchObject({
      than: 'your current 60 workers at 512 MB',
      sentence: '10% faster and 93% more expensive than your current 60 workers at 512 MB ($0.56/month more)',
    });
  });

  it('says so when the current setting is the recommendation, failed, or was not measured', () => {
    expect(buildSummary(smallSweep(), { concurrency: 60, memoryMb: 1024 }).vsCurrent).toBe(
      'Your current setting, 60 workers at 1024 MB, is already the recommended one.',
    );
    expect(buildSummary(smallSweep(), { concurrency: 128, memoryMb: 512 }).vsCurrent).toBe(
      'Your current setting, 128 workers at 512 MB, ran out of memory in this sweep: peak memory 530 MB exceeded the 512 MB limit',
    );
    expect(buildSummary(smallSweep(), { concurrency: 2, memoryMb: 1024 }).vsCurrent).toBe(
      'Your current setting, 2 workers at 1024 MB, was not measured in this sweep; add it to the grid to compare.',
    );
  });

  it('has no comparison when there is no recommendation', () => {
    const summary = buildSummary(smallSweep({ recommendation: null }), { concurrency: 1, memoryMb: 512 });
    expect(summary).toEqual({
      recommendation: null,
      headline: 'No recommendation: no setting met the constraints, or none was computed',
      vsOneWorker: undefined,
      vsCurrent: undefined,
    });
  });

  it('reads --current as concurrency x memory', () => {
    expect(parseSetting('60x1024')).toEqual({ concurrency: 60, memoryMb: 1024 });
    expect(parseSetting(' 8 × 1769MB ')).toEqual({ concurrency: 8, memoryMb: 1769 });
  });

  it('refuses a --current that is not a setting, naming the flag and the fix', () => {
    for (const bad of ['60', '60x64', '0x1024', '60x1024x2', 'sixty']) {
      expect(() => parseSetting(bad)).toThrow(InputError);
    }
    expect(() => parseSetting('60')).toThrow('--current: "60" is not a setting. Fix: write CONCURRENCYxMEMORY_MB');
  });
});

describe('outlying repetitions', () => {
  it('scores each repetition by its distance from the median in units of the MAD', () => {
    const scores = modifiedZScores([10, 10.1, 9.9, 10, 20]);
    [0, 0.6745, -0.6745, 0, 67.45].forEach((expected, i) => expect(scores[i]).toBeCloseTo(expected, 9));
    expect(outlierIndexes([10, 10.1, 9.9, 10, 20])).toEqual([4]);
  });

  it('flags nothing when more than half the repetitions are equal (no spread to judge by)', () => {
    expect(modifiedZScores([5, 5, 5, 9])).toEqual([0, 0, 0, 0]);
    expect(outlierIndexes([])).toEqual([]);
  });
});

describe('the warnings of a report', () => {
  it('lists the sweep warnings, failed cells, outliers and fidelity in that order', () => {
    const warnings = reportWarnings(sweepResults());
    expect(warnings.map((w) => w.kind)).toEqual(['sweep', 'oom', 'oom', 'errored', 'outlier', 'fidelity', 'fidelity']);
    expect(warnings[1]!.message).toBe(
      '64 workers at 128 MB ran out of memory: peak memory 129.6 MB exceeded the 128 MB limit. Choose a larger memory size or fewer workers.',
    );
    expect(warnings[4]!.message).toBe(
      '16 workers at 512 MB: repetition 5 took 15.1 s against a median of 9.4 s (modified Z-score 40.5). Rerun with more --reps or on a quieter machine.',
    );
    // 128 workers were as slow at 256, 512 and 1024 MB; only the sizes with a whole core judge the harness.
    expect(warnings[5]!.message).toBe(
      '128 workers at 1769 MB took 1.18× the ideal makespan (limit 1.10): the harness itself may be the bottleneck, so this duration is pessimistic.',
    );
  });

  it("does not blame the harness for a slow cell below a whole core, where the job's own CPU is slower", () => {
    const cells = [completedCell(1, 128, 1200, { fidelityRatio: 1.2 }), completedCell(1, 1769, 1000, { fidelityRatio: 1.0 })];
    expect(reportWarnings(results(cells))).toEqual([]);
    const slowAtACore = [completedCell(1, 128, 1200, { fidelityRatio: 1.2 }), completedCell(1, 1769, 1150, { fidelityRatio: 1.15 })];
    expect(reportWarnings(results(slowAtACore)).map((w) => w.message)).toEqual([
      '1 worker at 1769 MB took 1.15× the ideal makespan (limit 1.10): the harness itself may be the bottleneck, so this duration is pessimistic.',
    ]);
  });

  it('flags a fidelity ratio above 1.10 but not at it', () => {
    const kinds = (ratio: number) => reportWarnings(results([completedCell(1, 512, 1000, { fidelityRatio: ratio })])).map((w) => w.kind);
    expect(kinds(1.1)).toEqual([]);
    expect(kinds(1.11)).toEqual(['fidelity']);
  });

  it('flags the one slow repetition among steady ones (median 1005 ms, MAD 5 ms)', () => {
    const cell = completedCell(4, 512, 1000, { reps: [rep(1000), rep(1010), rep(990), rep(1005), rep(3000)] });
    expect(reportWarnings(results([cell])).map((w) => w.message)).toEqual([
      '4 workers at 512 MB: repetition 5 took 3.0 s against a median of 1.0 s (modified Z-score 269.1). Rerun with more --reps or on a quieter machine.',
    ]);
  });
});
