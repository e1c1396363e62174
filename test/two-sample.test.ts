import { describe, expect, it } from 'vitest';
import { bootstrapRatioOfMedians, coefficientOfVariation, mannWhitneyU, standardNormalCdf } from '../harness/analyze/two-sample.ts';
import { REPS_RULE_FACTOR, repetitionsFromInterval, repetitionsNeeded, smallestPossiblePValue } from '../harness/analyze/repetitions.ts';
import { seededSequence } from '../harness/scenario/random.ts';

/** Naive reference: enumerate every way to label m of the pooled values as head. */
function bruteForceTwoSidedP(base: number[], head: number[]): number {
  const pooled = [...base, ...head];
  const m = head.length;
  const u = (h: number[], b: number[]) => h.reduce((s, x) => s + b.filter((y) => x > y).length, 0);
  const observed = u(head, base);
  const all: number[] = [];
  const choose = (start: number, picked: number[]) => {
    if (picked.length === m) {
      const h = picked.map((i) => pooled[i]!);
      const b = pooled.filter((_, i) => !picked.includes(i));
      all.push(u(h, b));
      return;
    }
    for (let i = start; i < pooled.length; i++) choose(i + 1, [...picked, i]);
  };
  choose(0, []);
  const low = all.filter((x) => x <= observed).length / all.length;
  const high = all.filter((x) => x >= observed).length / all.length;
  return Math.min(1, 2 * Math.min(low, high));
}

describe('Mann-Whitney U', () => {
  it('gives the exact p-value of a naive enumeration for small samples without ties', () => {
    const cases: [number[], number[]][] = [
      [
        [10, 12, 14, 16],
        [11, 15, 17],
      ],
      [
        [1, 2, 3],
        [4, 5, 6, 7],
      ],
      [
        [5, 9, 2, 8, 1],
        [3, 4, 6, 7, 10, 11],
      ],
    ];
    for (const [base, head] of cases) {
      expect(mannWhitneyU(base, head).pValue).toBeCloseTo(bruteForceTwoSidedP(base, head), 12);
      expect(mannWhitneyU(base, head).exact).toBe(true);
    }
  });

  it('cannot call three against three separated repetitions significant: p is 2/20', () => {
    expect(mannWhitneyU([100, 101, 102], [130, 131, 132])).toEqual({ u: 9, pValue: 0.1, exact: true });
  });

  it('gives 2/252 for five repetitions all slower than five others', () => {
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).pValue).toBe(2 / 252);
  });

  it('gives p = 1 for identical samples, by the normal approximation because of the ties', () => {
    expect(mannWhitneyU([1, 2, 3], [1, 2, 3])).toEqual({ u: 4.5, pValue: 1, exact: false });
  });

  it('uses the normal approximation beyond 25 repetitions a side', () => {
    const base = Array.from({ length: 30 }, (_, i) => i);
    const head = base.map((x) => x + 0.5);
    const result = mannWhitneyU(base, head);
    // U = 465, mean 450, sd sqrt(900 * 61 / 12) = 67.64; z = 14.5 / 67.64 = 0.2144.
    expect(result.u).toBe(465);
    expect(result.exact).toBe(false);
    expect(result.pValue).toBeCloseTo(2 * (1 - standardNormalCdf(14.5 / Math.sqrt((900 * 61) / 12))), 12);
    expect(result.pValue).toBeCloseTo(0.8302, 3);
  });

  it('knows the smallest p-value a number of repetitions can reach', () => {
    expect(smallestPossiblePValue(3, 3)).toBe(0.1);
    expect(smallestPossiblePValue(4, 4)).toBe(2 / 70);
    expect(smallestPossiblePValue(3, 4)).toBe(2 / 35);
  });
});

describe('the standard normal CDF', () => {
  it('gives 0.975 at 1.959964 and 0.5 at 0', () => {
    expect(standardNormalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(standardNormalCdf(0)).toBeCloseTo(0.5, 8);
    expect(standardNormalCdf(-1.959964)).toBeCloseTo(0.025, 6);
  });
});

describe('bootstrap interval of the ratio of medians', () => {
  const options = () => ({ uniform: seededSequence(7), resamples: 2000, confidence: 0.95 });

  it('collapses to the ratio when every repetition is the same', () => {
    expect(bootstrapRatioOfMedians([100, 100, 100], [130, 130], options())).toEqual({ ratio: 1.3, lower: 1.3, upper: 1.3 });
  });

  it('gives the same interval for the same seed and another for another seed', () => {
    const base = [903, 1012, 987, 1100, 950, 1043, 968, 1021, 979];
    const head = [1190, 1320, 1285, 1402, 1251, 1333, 1270, 1299, 1350];
    const first = bootstrapRatioOfMedians(base, head, options());
    expect(bootstrapRatioOfMedians(base, head, options())).toEqual(first);
    const other = bootstrapRatioOfMedians(base, head, { ...options(), uniform: seededSequence(1) });
    expect(other.ratio).toBe(first.ratio);
    expect([other.lower, other.upper]).not.toEqual([first.lower, first.upper]);
  });

  it('brackets the observed ratio with bounds drawn from the repetitions', () => {
    const result = bootstrapRatioOfMedians([990, 1000, 1010, 995, 1005], [1290, 1300, 1310, 1295, 1305], options());
    expect(result.ratio).toBe(1.3);
    expect(result.lower).toBeGreaterThanOrEqual(1290 / 1010);
    expect(result.lower).toBeLessThan(1.3);
    expect(result.upper).toBeGreaterThan(1.3);
    expect(result.upper).toBeLessThanOrEqual(1310 / 990);
  });
});

describe('coefficient of variation', () => {
  it('is the sample standard deviation over the mean', () => {
    expect(coefficientOfVariation([1, 2, 3])).toBe(0.5);
    expect(coefficientOfVariation([5])).toBe(0);
  });
});

describe('repetitions needed for a threshold', () => {
  it('follows n = ceil((7.5 CV / threshold)^2), never below the 4 Mann-Whitney needs', () => {
    expect(REPS_RULE_FACTOR).toBe(7.5);
    expect(repetitionsNeeded(0.02, 5)).toBe(9);
    expect(repetitionsNeeded(0.1, 5)).toBe(225);
    expect(repetitionsNeeded(0.05, 10)).toBe(15);
    expect(repetitionsNeeded(0, 5)).toBe(4);
  });

  it('scales an observed interval by 1/sqrt(n) to the threshold', () => {
    expect(repetitionsFromInterval(0.1, 5, 0.05)).toBe(20);
    expect(repetitionsFromInterval(0.04, 5, 0.05)).toBe(4);
  });

  it('is enough for the bootstrap interval to be about as wide as the threshold, on simulated normal noise', () => {
    const draw = seededSequence(11);
    const normal = () => Math.sqrt(-2 * Math.log(draw())) * Math.cos(2 * Math.PI * draw());
    const cv = 0.04;
    const thresholdPct = 10;
    const n = repetitionsNeeded(cv, thresholdPct);
    expect(n).toBe(9);
    const trials = 40;
    let totalWidth = 0;
    for (let t = 0; t < trials; t++) {
      const base = Array.from({ length: n }, () => 1000 * (1 + cv * normal()));
      const head = Array.from({ length: n }, () => 1000 * (1 + cv * normal()));
      const interval = bootstrapRatioOfMedians(base, head, { uniform: seededSequence(t), resamples: 1000, confidence: 0.95 });
      totalWidth += interval.upper - interval.lower;
    }
    const meanWidth = totalWidth / trials;
    // Not wider than the threshold, and not so conservative that it wastes half the repetitions.
    expect(meanWidth).toBeLessThanOrEqual(thresholdPct / 100);
    expect(meanWidth).toBeGreaterThan((0.7 * thresholdPct) / 100);
  });
});
