import { describe, expect, it } from 'vitest';
import { recommend, type Picked, type RecommendOutcome } from '../harness/analyze/recommend.ts';
import type { CompletedCell } from '../harness/results/schema.ts';
import { InputError } from '../harness/errors.ts';
import { completedCell, failedCell, rep } from './fixtures/results.ts';

/** A completed cell with its monthly cost; the fixture's ci95 is median x [0.95, 1.05]. */
function cell(concurrency: number, memoryMb: number, medianMs: number, perMonth: number, overrides: Partial<CompletedCell> = {}): CompletedCell {
  return completedCell(concurrency, memoryMb, medianMs, { costUsd: { perInvocation: perMonth / 8640, perMonth }, ...overrides });
}

function picked(outcome: RecommendOutcome): Picked {
  if (outcome.kind !== 'picked') throw new Error(`expected a pick, got: ${outcome.message}`);
  return outcome;
}

function key(c: CompletedCell | null): string {
  return c ? `${c.concurrency}@${c.memoryMb}` : 'none';
}

// Costs span 0.70..1.20, medians 7,800..12,000 ms: the balanced scores below follow from these.
const grid = [cell(8, 512, 12_000, 0.9), cell(32, 512, 9_000, 0.7), cell(48, 768, 8_200, 0.85), cell(32, 1024, 8_000, 1.2), cell(64, 1024, 7_800, 1.18)];

describe('cost strategy', () => {
  it('picks the lowest monthly cost and explains it with the numbers', () => {
    const outcome = picked(recommend(grid, { strategy: 'cost' }));
    expect(outcome.recommendation).toEqual({
      strategy: 'cost',
      concurrency: 32,
      memoryMb: 512,
      architecture: 'x86_64',
      durationMs: 9_000,
      costUsdPerMonth: 0.7,
      why:
        '32 workers at 512 MB (x86_64): median 9.0 s, p95 9.2 s, $0.70/month, the cheapest of 5 feasible settings. ' +
        '18% cheaper than the runner-up (48 workers at 768 MB: 8.2 s, $0.85/month), and their 95% confidence intervals do not overlap. ' +
        'At 512 MB, 32 workers is the fastest (9.0 s) and every lower concurrency is more than 5% slower.',
    });
    expect(key(outcome.runnerUp)).toBe('48@768');
    expect(outcome.feasibleCount).toBe(5);
    expect(outcome.winnerInterval[0]).toBeCloseTo(0.665, 12);
    expect(outcome.winnerInterval[1]).toBeCloseTo(0.735, 12);
  });

  it('is the default strategy', () => {
    expect(picked(recommend(grid)).recommendation.strategy).toBe('cost');
  });

  it('breaks a cost tie by speed, then fewer workers, then less memory', () => {
    expect(key(picked(recommend([cell(16, 512, 9_000, 1), cell(32, 512, 8_000, 1)], {})).winner)).toBe('32@512');
    expect(key(picked(recommend([cell(32, 512, 8_000, 1), cell(16, 512, 8_000, 1)], {})).winner)).toBe('16@512');
    expect(key(picked(recommend([cell(16, 1024, 8_000, 1), cell(16, 512, 8_000, 1)], {})).winner)).toBe('16@512');
  });

  it('says which tie-break decided', () => {
    const outcome = picked(recommend([cell(16, 512, 9_000, 1), cell(32, 512, 8_000, 1)], {}));
    expect(outcome.recommendation.why).toContain(
      'It ties with the runner-up (16 workers at 512 MB: 9.0 s, $1.00/month) on cost and wins the tie-break: it is faster',
    );
  });
});

describe('speed strategy', () => {
  it('picks the lowest median duration', () => {
    const outcome = picked(recommend(grid, { strategy: 'speed' }));
    expect(key(outcome.winner)).toBe('64@1024');
    expect(key(outcome.runnerUp)).toBe('32@1024');
    expect(outcome.recommendation.why).toContain('3% faster than the runner-up (32 workers at 1024 MB: 8.0 s, $1.20/month)');
  });

  it('breaks a speed tie by cost', () => {
    const outcome = picked(recommend([cell(64, 1024, 8_000, 1.2), cell(64, 2048, 8_000, 1.1)], { strategy: 'speed' }));
    expect(key(outcome.winner)).toBe('64@2048');
  });
});

describe('balanced strategy', () => {
  it('with weight 0.3 picks the setting that is neither cheapest nor fastest', () => {
    // Scores 0.3 x cost + 0.7 x duration: 48@768 0.1567, 32@512 0.2, 64@1024 0.288.
    const outcome = picked(recommend(grid, { strategy: 'balanced', weight: 0.3 }));
    expect(key(outcome.winner)).toBe('48@768');
    expect(outcome.winnerInterval[0]).toBeLessThan(outcome.winnerInterval[1]);
    expect(outcome.recommendation.why).toContain('the best cost/duration balance of 5 feasible settings, weighing cost 0.3 and duration 0.7');
    expect(outcome.recommendation.why).toContain('Against the runner-up (32 workers at 512 MB: 9.0 s, $0.70/month) it is 21% dearer and 9% faster');
  });

  it('is the cost strategy at weight 1 and the speed strategy at weight 0', () => {
    expect(key(picked(recommend(grid, { strategy: 'balanced', weight: 1 })).winner)).toBe('32@512');
    expect(key(picked(recommend(grid, { strategy: 'balanced', weight: 0 })).winner)).toBe('64@1024');
  });

  it('defaults to weight 0.5', () => {
    expect(key(picked(recommend(grid, { strategy: 'balanced' })).winner)).toBe('32@512');
  });
});

describe('constraints', () => {
  it('exclude cells whose peak RSS reached the memory size, even the cheapest', () => {
    const outcome = picked(recommend([cell(32, 512, 9_000, 0.7, { peakRssMb: 512 }), cell(32, 1024, 8_000, 1.2)], {}));
    expect(key(outcome.winner)).toBe('32@1024');
    expect(outcome.excluded.memory).toBe(1);
    expect(outcome.recommendation.why).toContain('the cheapest of 1 feasible setting (1 of 2 excluded: 1 ran out of memory)');
    expect(outcome.recommendation.why).toContain(
      'It is the only feasible setting. It is the only feasible concurrency measured at 1024 MB, so there is no knee to report.',
    );
    expect(outcome.beatsRunnerUp).toBe(true);
  });

  it('let only completed cells win', () => {
    const outcome = picked(
      recommend(
        [
          failedCell(64, 128, 'oom', 'heap out of memory'),
          failedCell(8, 128, 'errored', 'crashed'),
          failedCell(1, 128, 'timeout', 'over 900 s'),
          cell(32, 1024, 8_000, 1.2),
        ],
        {},
      ),
    );
    expect(key(outcome.winner)).toBe('32@1024');
    expect(outcome.excluded).toEqual({ completed: 1, memory: 1, lambdaTimeout: 1, maxErrorRate: 0, maxP95Ms: 0 });
  });

  it('apply the p95 limit, the error-rate limit and the function timeout', () => {
    const cells = [cell(32, 512, 9_000, 0.7, { errorRate: 0.02 }), cell(48, 768, 8_200, 0.85), cell(64, 1024, 7_800, 1.18)];
    expect(key(picked(recommend(cells, { maxErrorRate: 0.01 })).winner)).toBe('48@768');
    expect(key(picked(recommend(cells, { maxP95Ms: 8_000 })).winner)).toBe('64@1024');
    // p95 is 1.02 x median: 8,364 ms reaches an 8 s timeout, 7,956 ms does not.
    expect(key(picked(recommend(cells, { lambdaTimeoutS: 8 })).winner)).toBe('64@1024');
  });

  it('name the constraint that excluded the most cells when nothing is feasible', () => {
    const outcome = recommend(grid, { maxP95Ms: 5_000 });
    expect(outcome).toEqual({
      kind: 'none',
      bindingConstraint: 'maxP95Ms',
      excluded: { completed: 0, memory: 0, lambdaTimeout: 0, maxErrorRate: 0, maxP95Ms: 5 },
      totalCount: 5,
      message: 'no feasible setting among 5 cells: 5 over the p95 limit (--max-p95-ms 5000); the lowest p95 was 7956 ms; raise --max-p95-ms to at least 7956',
    });
  });

  it('name memory when out-of-memory cells outnumber the others', () => {
    const outcome = recommend(
      [
        failedCell(8, 128, 'oom', 'x'),
        failedCell(16, 128, 'oom', 'x'),
        cell(8, 256, 30_000, 0.3, { peakRssMb: 300 }),
        cell(64, 1024, 7_800, 1.18, { errorRate: 0.5 }),
      ],
      { maxErrorRate: 0.1 },
    );
    expect(outcome.kind === 'none' && outcome.bindingConstraint).toBe('memory');
    expect(outcome.kind === 'none' && outcome.message).toBe(
      'no feasible setting among 4 cells: 3 ran out of memory; the job needs more memory than the sizes swept; sweep larger sizes with --memory (also: 1 over the error-rate limit)',
    );
  });

  it('name the later constraint when two exclude as many cells', () => {
    const outcome = recommend([cell(8, 256, 9_000, 0.3, { peakRssMb: 300 }), cell(64, 1024, 7_800, 1.18, { errorRate: 0.5 })], { maxErrorRate: 0.1 });
    expect(outcome.kind === 'none' && outcome.bindingConstraint).toBe('maxErrorRate');
    expect(outcome.kind === 'none' && outcome.message).toContain('raise --max-error-rate to at least that');
  });

  it('say when there are no cells at all', () => {
    expect(recommend([], {})).toMatchObject({ kind: 'none', bindingConstraint: 'completed', message: 'the results file has no cells; run the sweep first' });
  });
});

describe('the knee', () => {
  const curve = [
    cell(8, 1024, 12_000, 2),
    cell(16, 1024, 8_500, 1.4),
    cell(32, 1024, 8_100, 1.3),
    cell(64, 1024, 8_000, 1.29),
    cell(128, 1024, 8_050, 1.295),
    cell(16, 512, 7_000, 5), // another memory size: not part of the knee
  ];

  it('is the smallest concurrency within 5% of the fastest at the chosen memory size', () => {
    const outcome = picked(recommend(curve, { strategy: 'cost' }));
    expect(key(outcome.winner)).toBe('64@1024');
    expect(outcome.knee).toEqual({
      memoryMb: 1024,
      concurrency: 32,
      medianMs: 8_100,
      bestConcurrency: 64,
      bestMedianMs: 8_000,
      margin: 0.05,
      feasibleAtMemory: 5,
    });
    expect(outcome.recommendation.why).toContain('At 1024 MB, concurrency above 32 buys less than 5%: 32 workers take 8.1 s, the fastest (64) 8.0 s.');
  });

  it('moves with the stated margin', () => {
    expect(picked(recommend(curve, { kneeMargin: 0.1 })).knee.concurrency).toBe(16);
    expect(picked(recommend(curve, { kneeMargin: 0 })).knee.concurrency).toBe(64);
  });
});

describe('confidence of the pick', () => {
  it('beats the runner-up on cost when the cost intervals do not overlap', () => {
    // 0.70 x [0.95, 1.05] = [0.665, 0.735] against 0.75 x [0.95, 1.05] = [0.7125, 0.7875]: overlap.
    const close = picked(recommend([cell(32, 512, 9_000, 0.7), cell(48, 768, 8_200, 0.75)], {}));
    expect(close.beatsRunnerUp).toBe(false);
    expect(close.recommendation.why).toContain('but their 95% confidence intervals overlap, so the two are not clearly different');
    const clear = picked(recommend([cell(32, 512, 9_000, 0.7), cell(48, 768, 8_200, 0.78)], {}));
    expect(clear.beatsRunnerUp).toBe(true);
  });

  it('compares duration intervals for speed', () => {
    // [7,410, 8,190] against [7,600, 8,400]: overlap; against [8,550, 9,450]: clear.
    expect(picked(recommend([cell(64, 1024, 7_800, 1), cell(32, 1024, 8_000, 1)], { strategy: 'speed' })).beatsRunnerUp).toBe(false);
    expect(picked(recommend([cell(64, 1024, 7_800, 1), cell(32, 1024, 9_000, 1)], { strategy: 'speed' })).beatsRunnerUp).toBe(true);
  });

  it('claims nothing from a single repetition', () => {
    const single = { reps: [rep(7_800)], durationMs: { median: 7_800, mean: 7_800, p95: 7_800, ci95: [7_800, 7_800] as [number, number] } };
    const outcome = picked(recommend([cell(64, 1024, 7_800, 1, single), cell(32, 1024, 9_000, 1)], { strategy: 'speed' }));
    expect(outcome.beatsRunnerUp).toBe(false);
    expect(outcome.recommendation.why).toContain('with a single repetition there is no confidence interval');
  });
});

describe('bad options', () => {
  it('are refused with the flag named', () => {
    expect(() => recommend(grid, { strategy: 'cheapest' })).toThrow(InputError);
    expect(() => recommend(grid, { strategy: 'cheapest' })).toThrow('--strategy: unknown strategy "cheapest". Fix: use one of cost, speed, balanced');
    expect(() => recommend(grid, { strategy: 'balanced', weight: 1.5 })).toThrow('--weight: must be in [0, 1], got 1.5');
    expect(() => recommend(grid, { strategy: 'cost', weight: 0.5 })).toThrow('--weight: only applies to the balanced strategy');
    expect(() => recommend(grid, { maxP95Ms: -1 })).toThrow('--max-p95-ms: must be a positive number of ms, got -1');
    expect(() => recommend(grid, { maxErrorRate: -0.1 })).toThrow('--max-error-rate: must be a share in [0, 1], got -0.1');
    expect(() => recommend(grid, { maxErrorRate: Number.NaN })).toThrow('--max-error-rate');
  });
});
