import { describe, expect, it } from 'vitest';
import { compareResults, errorRateRises, parseThresholdPct, scenarioFieldChanges, type MeasuredCellComparison } from '../harness/analyze/compare.ts';
import { repetitionsFromInterval, repetitionsNeeded } from '../harness/analyze/repetitions.ts';
import { InputError } from '../harness/errors.ts';
import type { Recommendation } from '../harness/results/schema.ts';
import { completedCell, failedCell, results, tinyScenario } from './fixtures/results.ts';
import { allFailedResults, cellWithFactors, gridResults, NOISY, otherScenario, otherScenarioHash, QUIET, withFailedRequests } from './fixtures/compare.ts';

const options = { thresholdPct: 5, allowScenarioChange: false };

function measured(comparison: ReturnType<typeof compareResults>, index = 0): MeasuredCellComparison {
  const cell = comparison.cells[index]!;
  if (cell.kind !== 'measured') throw new Error(`cell ${index} was not measured on both sides`);
  return cell;
}

describe('compareResults', () => {
  it('finds no regression between identical results', () => {
    const comparison = compareResults(gridResults(1), gridResults(1), options);
    expect(comparison.hasRegression).toBe(false);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.cells.map((c) => c.verdict)).toEqual(Array(6).fill('no-significant-change'));
    expect(measured(comparison).changePct).toBe(0);
    expect(measured(comparison).mannWhitneyP).toBe(1);
    expect(comparison.warnings).toEqual([]);
  });

  it('calls a head whose repetitions all last 30% longer a regression in every cell', () => {
    const comparison = compareResults(gridResults(1), gridResults(1.3), options);
    expect(comparison.hasRegression).toBe(true);
    expect(comparison.regressions).toHaveLength(6);
    const first = measured(comparison);
    expect(first.baseMedianMs).toBe(4000);
    expect(first.headMedianMs).toBe(5200);
    expect(first.ratio).toBe(1.3);
    expect(first.changePct).toBeCloseTo(30, 10);
    // Seed 1, 4000 resamples: the interval lies between the extreme ratios 1287/1010 and 1313/990.
    expect(first.ratioInterval).toEqual([1.2806930693069307, 1.3195979899497488]);
    expect(first.mannWhitneyP).toBe(2 / 252);
    expect(first.significant).toBe(true);
    expect(first.underpowered).toBe(false);
    expect(first.costPerMonthUsd.base).toBe(4);
    expect(first.costPerMonthUsd.head).toBeCloseTo(5.2, 12);
    expect(first.costPerMonthUsd.changePct).toBeCloseTo(30, 10);
  });

  it('does not call a significant 3% slowdown a regression at a 5% threshold', () => {
    const comparison = compareResults(gridResults(1), gridResults(1.03), options);
    expect(comparison.hasRegression).toBe(false);
    expect(measured(comparison).significant).toBe(true);
    expect(comparison.cells.map((c) => c.verdict)).toEqual(Array(6).fill('within-threshold'));
  });

  it('calls the same 3% slowdown a regression at a 2% threshold', () => {
    const comparison = compareResults(gridResults(1), gridResults(1.03), { ...options, thresholdPct: 2 });
    expect(comparison.regressions).toHaveLength(6);
  });

  it('calls a head 30% faster an improvement, not a regression', () => {
    const comparison = compareResults(gridResults(1), gridResults(0.7), options);
    expect(comparison.hasRegression).toBe(false);
    expect(comparison.improvements).toHaveLength(6);
    expect(measured(comparison).verdict).toBe('improvement');
  });

  it('finds no regression in noisy repetitions whose intervals overlap, and says how many repetitions would tell', () => {
    const comparison = compareResults(gridResults(1, NOISY), gridResults(1.1, NOISY), options);
    expect(comparison.hasRegression).toBe(false);
    const first = measured(comparison);
    expect(first.changePct).toBeCloseTo(10, 10);
    expect(first.ratioInterval![0]).toBeLessThan(1);
    expect(first.ratioInterval![1]).toBeGreaterThan(1.1);
    expect(first.verdict).toBe('no-significant-change');
    expect(first.underpowered).toBe(true);
    // NOISY has a coefficient of variation of 0.25495 on both sides.
    expect(first.pooledCv).toBeCloseTo(0.254951, 6);
    // The larger of the coefficient-of-variation rule and the observed interval scaled by 1/sqrt(n).
    const width = first.ratioInterval![1] - first.ratioInterval![0];
    expect(repetitionsNeeded(first.pooledCv, 5)).toBe(1463);
    expect(repetitionsFromInterval(width, 5, 0.05)).toBe(2467);
    expect(first.repsNeeded).toBe(2467);
    expect(comparison.warnings).toHaveLength(1);
    expect(comparison.warnings[0]).toContain('6 of 6 cells cannot resolve a 5% change');
    expect(comparison.warnings[0]).toContain('--reps 2467');
  });

  it('does not trust three repetitions a side that do not overlap, since they happen by chance one time in ten', () => {
    const three = [0.99, 1, 1.01];
    const base = results([cellWithFactors(1, 512, 1000, three)]);
    const head = results([cellWithFactors(1, 512, 1300, three)]);
    const comparison = compareResults(base, head, options);
    const cell = measured(comparison);
    expect(cell.ratioInterval![0]).toBeGreaterThan(1);
    expect(cell.mannWhitneyP).toBe(0.1);
    expect(cell.verdict).toBe('no-significant-change');
    expect(cell.underpowered).toBe(true);
    expect(cell.repsNeeded).toBe(4);
    expect(comparison.warnings[0]).toContain('--reps 4');
  });

  it('gives no verdict for a cell with a single repetition on a side', () => {
    const base = results([cellWithFactors(1, 512, 1000, [1])]);
    const head = results([cellWithFactors(1, 512, 1300, QUIET)]);
    const cell = measured(compareResults(base, head, options));
    expect(cell.verdict).toBe('too-few-reps');
    expect(cell.ratioInterval).toBeNull();
    expect(cell.ratio).toBe(1.3);
  });

  it('refuses results of different scenarios, naming both files, names and hashes and the flag', () => {
    const head = gridResults(1, QUIET, { scenario: otherScenario, scenarioHash: otherScenarioHash });
    const base = gridResults(1);
    let error: unknown;
    try {
      compareResults(base, head, { ...options, files: { base: 'main.json', head: 'pr.json' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as InputError).message;
    expect(message).toContain('main.json ran "tiny" (sha256:');
    expect(message).toContain(`pr.json ran "tiny-other" (${otherScenarioHash})`);
    expect(message).toContain(base.scenarioHash);
    expect(message).toContain('--allow-scenario-change');
  });

  it('compares results of different scenarios when allowed, with a warning', () => {
    const head = gridResults(1, QUIET, { scenario: otherScenario, scenarioHash: otherScenarioHash });
    const comparison = compareResults(gridResults(1), head, { ...options, allowScenarioChange: true });
    expect(comparison.scenarioChanged).toBe(true);
    expect(comparison.cells).toHaveLength(6);
    expect(comparison.warnings[0]).toBe(
      `The scenario changed ("tiny" ${comparison.base.scenarioHash} -> "tiny-other" ${otherScenarioHash}; ` +
        'name "tiny" -> "tiny-other", seed 1 -> 2): differences may come from the scenario, not from the code.',
    );
  });

  it('names the scenario fields that differ, such as a default the head fills in differently', () => {
    const base = { client: { timeoutMs: 5000, retries: 1 }, requests: [{ host: 'a', count: 10 }], sweep: { reps: 3 } };
    const head = { client: { timeoutMs: 10000, retries: 1 }, requests: [{ host: 'a', count: 12 }], sweep: { reps: 3, timeScale: 1 } };
    expect(scenarioFieldChanges(base, head)).toEqual(['client.timeoutMs 5000 -> 10000', 'requests[0].count 10 -> 12', 'sweep.timeScale absent -> 1']);
    expect(scenarioFieldChanges({ requests: [1] }, { requests: [1, 2] })).toEqual(['requests [1] -> [1,2]']);
    expect(scenarioFieldChanges({ $schema: 'a', x: 1 }, { $schema: 'b', x: 1 })).toEqual([]);
  });

  it('lists the cells found on one side only', () => {
    const base = results([cellWithFactors(1, 512, 1000, QUIET), cellWithFactors(2, 512, 500, QUIET)]);
    const head = results([cellWithFactors(1, 512, 1000, QUIET), cellWithFactors(4, 512, 250, QUIET)]);
    const comparison = compareResults(base, head, options);
    expect(comparison.cells).toHaveLength(1);
    expect(comparison.onlyInBase).toEqual([{ concurrency: 2, memoryMb: 512, architecture: 'x86_64' }]);
    expect(comparison.onlyInHead).toEqual([{ concurrency: 4, memoryMb: 512, architecture: 'x86_64' }]);
    expect(comparison.warnings).toEqual([
      'Only in base (not compared): concurrency 2, 512 MB, x86_64.',
      'Only in head (not compared): concurrency 4, 512 MB, x86_64.',
    ]);
  });

  it('calls a cell that completed on base and runs out of memory on head a regression', () => {
    const base = results([cellWithFactors(1, 512, 1000, QUIET)]);
    const head = results([failedCell(1, 512, 'oom', 'peak memory 530 MB above 512 MB')]);
    const comparison = compareResults(base, head, options);
    expect(comparison.hasRegression).toBe(true);
    expect(comparison.cells[0]).toEqual({
      kind: 'state',
      key: { concurrency: 1, memoryMb: 512, architecture: 'x86_64' },
      baseState: 'completed',
      headState: 'oom',
      verdict: 'newly-failing',
      baseError: null,
      headError: 'peak memory 530 MB above 512 MB',
    });
  });

  it('calls a cell that failed on base and completes on head fixed', () => {
    const base = results([failedCell(1, 512, 'timeout', 'over 900 s')]);
    const head = results([cellWithFactors(1, 512, 1000, QUIET)]);
    const comparison = compareResults(base, head, options);
    expect(comparison.cells[0]!.verdict).toBe('fixed');
    expect(comparison.improvements).toHaveLength(1);
    expect(comparison.hasRegression).toBe(false);
  });

  it('reports a change of the recommended settings and of their monthly cost', () => {
    const recommendation = (concurrency: number, memoryMb: number, costUsdPerMonth: number): Recommendation => ({
      strategy: 'cost',
      concurrency,
      memoryMb,
      architecture: 'x86_64',
      durationMs: 1000,
      costUsdPerMonth,
      why: 'cheapest',
    });
    const base = gridResults(1, QUIET, { recommendation: recommendation(4, 512, 1) });
    const head = gridResults(1, QUIET, { recommendation: recommendation(4, 1024, 1.25) });
    const comparison = compareResults(base, head, options);
    expect(comparison.recommendation.settingsChanged).toBe(true);
    expect(comparison.recommendation.costChangePct).toBe(25);
    expect(comparison.recommendation.durationChangePct).toBe(0);

    const same = compareResults(base, gridResults(1, QUIET, { recommendation: recommendation(4, 512, 1) }), options);
    expect(same.recommendation.settingsChanged).toBe(false);
    expect(same.recommendation.costChangePct).toBe(0);

    const dropped = compareResults(base, gridResults(1), options);
    expect(dropped.recommendation.settingsChanged).toBe(true);
    expect(dropped.recommendation.head).toBeNull();
  });

  it('gives the same intervals for the same seed, and the seed is the option', () => {
    const base = gridResults(1, NOISY);
    const head = gridResults(1.1, NOISY);
    const once = compareResults(base, head, { ...options, seed: 3 });
    expect(compareResults(base, head, { ...options, seed: 3 })).toEqual(once);
    expect(once.seed).toBe(3);
    expect(compareResults(base, head, options).seed).toBe(1);
  });

  it('warns when base and head were measured on different machines', () => {
    const head = gridResults(1, QUIET, { env: { node: 'v22.0.0', platform: 'linux', cpus: 4, commit: 'def', branch: 'pr' } });
    const comparison = compareResults(gridResults(1), head, options);
    expect(comparison.warnings).toEqual([
      'Base and head were measured differently (CPUs 2 -> 4, Node.js v20.20.2 -> v22.0.0); part of any difference may come from that.',
    ]);
  });

  it('refuses a results file holding the same cell twice', () => {
    const base = results([completedCell(1, 512, 1000), completedCell(1, 512, 1000)]);
    expect(() => compareResults(base, gridResults(1), { ...options, files: { base: 'b.json', head: 'h.json' } })).toThrow(
      'b.json: cells[1]: the cell concurrency 1, 512 MB, x86_64 appears twice',
    );
  });

  it('refuses a threshold that is not positive', () => {
    expect(() => compareResults(gridResults(1), gridResults(1), { ...options, thresholdPct: 0 })).toThrow(RangeError);
  });

  it('calls a head that fails half its requests while finishing 20% sooner a regression, not an improvement', () => {
    const comparison = compareResults(gridResults(1), withFailedRequests(gridResults(0.8), 5), options);
    expect(comparison.hasRegression).toBe(true);
    expect(comparison.regressions).toHaveLength(6);
    expect(comparison.improvements).toEqual([]);
    const first = measured(comparison);
    expect(first.verdict).toBe('more-errors');
    expect(first.durationVerdict).toBe('improvement');
    expect(first.changePct).toBeCloseTo(-20, 10);
    expect(first.errorRate).toEqual({ base: 0, head: 0.5, limit: 0.01 });
  });

  it('calls a rise of the error rate beyond --max-error-rate a regression whatever the duration does', () => {
    // 2 of 10 requests fail: 20%. Slower by 30%, the same, or faster by 30%: the verdict is the errors.
    for (const slowdown of [1.3, 1, 0.7]) {
      const comparison = compareResults(gridResults(1), withFailedRequests(gridResults(slowdown), 2), { ...options, maxErrorRate: 0.1 });
      expect(comparison.cells.map((c) => c.verdict)).toEqual(Array(6).fill('more-errors'));
      expect(measured(comparison).errorRate).toEqual({ base: 0, head: 0.2, limit: 0.1 });
    }
    // Below the limit the durations decide again: 20% of failed requests under a limit of 30%.
    const within = compareResults(gridResults(1), withFailedRequests(gridResults(0.7), 2), { ...options, maxErrorRate: 0.3 });
    expect(within.hasRegression).toBe(false);
    expect(within.cells.map((c) => c.verdict)).toEqual(Array(6).fill('improvement'));
  });

  it('counts a rise from at most the limit to above it, or by more than the limit above it', () => {
    expect(errorRateRises(0, 0.5, 0.01)).toBe(true);
    expect(errorRateRises(0.005, 0.012, 0.01)).toBe(true);
    expect(errorRateRises(0, 0.01, 0.01)).toBe(false);
    // Base already fails 5%: a request more or less is not a change, 2 points more is.
    expect(errorRateRises(0.05, 0.055, 0.01)).toBe(false);
    expect(errorRateRises(0.05, 0.07, 0.01)).toBe(true);
    expect(errorRateRises(0.5, 0.3, 0.01)).toBe(false);
    expect(errorRateRises(0, 1, 1)).toBe(false);
  });

  it('keeps a head that fails as often as base out of the regressions', () => {
    const comparison = compareResults(withFailedRequests(gridResults(1), 5), withFailedRequests(gridResults(1), 5), options);
    expect(comparison.hasRegression).toBe(false);
    expect(measured(comparison).errorRate).toEqual({ base: 0.5, head: 0.5, limit: 0.01 });
  });

  it('refuses a --max-error-rate outside [0, 1]', () => {
    expect(() => compareResults(gridResults(1), gridResults(1), { ...options, maxErrorRate: 1.5 })).toThrow(RangeError);
  });

  it('fails a head whose every cell failed, also where base failed too, saying head measured nothing', () => {
    const fromCompleted = compareResults(gridResults(1), allFailedResults(), options);
    expect(fromCompleted.hasRegression).toBe(true);
    expect(fromCompleted.regressions).toHaveLength(6);
    expect(fromCompleted.headMeasuredNothing).toBe('no cell completed on head (6 errored): head measured nothing');

    const bothFailed = compareResults(allFailedResults('timeout', 'over 30 s'), allFailedResults('oom', 'above 512 MB'), options);
    expect(bothFailed.cells.map((c) => c.verdict)).toEqual(Array(6).fill('both-failed'));
    expect(bothFailed.regressions).toEqual([]);
    expect(bothFailed.hasRegression).toBe(true);
    expect(bothFailed.headMeasuredNothing).toBe('no cell completed on head (6 oom): head measured nothing');

    const empty = compareResults(gridResults(1), results([]), { ...options, files: { base: 'b.json', head: 'h.json' } });
    expect(empty.hasRegression).toBe(true);
    expect(empty.headMeasuredNothing).toBe('h.json holds no cell: head measured nothing');
    expect(empty.onlyInBase).toHaveLength(6);
  });

  it('refuses two files that share no cell, naming the cells of each', () => {
    const base = results([cellWithFactors(1, 512, 1000, QUIET)]);
    const head = results([cellWithFactors(2, 512, 500, QUIET)]);
    expect(() => compareResults(base, head, { ...options, files: { base: 'b.json', head: 'h.json' } })).toThrow(
      new InputError({
        file: 'b.json, h.json',
        field: 'cells',
        problem: 'the two results share no cell (base: concurrency 1, 512 MB, x86_64; head: concurrency 2, 512 MB, x86_64), so nothing can be compared',
        fix: 'sweep base and head over the same --concurrency and --memory',
      }),
    );
  });

  it('keeps the fixture scenario the one whose grid the fixtures fill', () => {
    expect(tinyScenario.sweep).toEqual({ concurrency: [1, 2, 4], memoryMb: [512, 1024], reps: 3, timeScale: 1 });
  });
});

describe('parseThresholdPct', () => {
  it('reads 5%, 5 and 2.5% as percentages', () => {
    expect(parseThresholdPct('5%')).toBe(5);
    expect(parseThresholdPct('5')).toBe(5);
    expect(parseThresholdPct('2.5%')).toBe(2.5);
  });

  it('refuses abc, -5% and 0% with a message naming --threshold', () => {
    for (const text of ['abc', '-5%', '0%', '']) {
      expect(() => parseThresholdPct(text)).toThrow(InputError);
      expect(() => parseThresholdPct(text)).toThrow(/^--threshold: /);
    }
  });
});
