import { median, medianInPlace, percentile, sortSamples } from './statistics.ts';

/**
 * Two-sample statistics for comparing the repetitions of one cell measured on two branches.
 * Pure: the bootstrap draws come from the `uniform` function the caller passes, so the same seed
 * gives the same interval on every machine.
 */

export interface RatioInterval {
  /** median(head) / median(base) of the observed repetitions. */
  ratio: number;
  /** Percentile bootstrap interval of that ratio. */
  lower: number;
  upper: number;
}

/**
 * Percentile bootstrap confidence interval of median(head) / median(base): each resample draws
 * both sides with replacement, independently. Medians, not means, because one slow repetition (a
 * GC pause, a noisy neighbour on a shared runner) should not move the verdict.
 */
export function bootstrapRatioOfMedians(
  base: readonly number[],
  head: readonly number[],
  options: { uniform: () => number; resamples: number; confidence: number },
): RatioInterval {
  if (base.length === 0 || head.length === 0) throw new RangeError('both sides need at least one sample');
  const baseMedian = median(base);
  if (!(baseMedian > 0)) throw new RangeError('the base median must be positive to form a ratio');
  const ratios: number[] = new Array<number>(options.resamples);
  const baseDraw = new Array<number>(base.length);
  const headDraw = new Array<number>(head.length);
  for (let r = 0; r < options.resamples; r++) {
    for (let i = 0; i < base.length; i++) baseDraw[i] = base[Math.floor(options.uniform() * base.length)]!;
    for (let i = 0; i < head.length; i++) headDraw[i] = head[Math.floor(options.uniform() * head.length)]!;
    const resampledBase = medianInPlace(baseDraw);
    // A zero base median can only come from zero durations; treat the ratio as unbounded.
    ratios[r] = resampledBase > 0 ? medianInPlace(headDraw) / resampledBase : Number.MAX_VALUE;
  }
  const sorted = sortSamples(ratios);
  const tail = (1 - options.confidence) / 2;
  return { ratio: median(head) / baseMedian, lower: percentile(sorted, tail), upper: percentile(sorted, 1 - tail) };
}

export interface MannWhitneyResult {
  /** Pairs (head, base) where head is larger, ties counting one half. */
  u: number;
  /** Two-sided p-value: exact when there are no ties and both sides are small, else normal. */
  pValue: number;
  exact: boolean;
}

/** Largest side for which the exact distribution of U is counted (counts stay below 2^53). */
const EXACT_LIMIT = 25;

/**
 * Mann-Whitney U test of head against base. It is the guard against the percentile bootstrap's
 * known optimism with a handful of repetitions: three against three repetitions that do not
 * overlap give a bootstrap interval excluding 1, yet happen by chance one time in ten.
 */
export function mannWhitneyU(base: readonly number[], head: readonly number[]): MannWhitneyResult {
  const m = head.length;
  const n = base.length;
  if (m === 0 || n === 0) throw new RangeError('both sides need at least one sample');
  let u = 0;
  let ties = false;
  for (const h of head) {
    for (const b of base) {
      if (h > b) u += 1;
      else if (h === b) {
        u += 0.5;
        ties = true;
      }
    }
  }
  if (!ties && m <= EXACT_LIMIT && n <= EXACT_LIMIT) {
    const counts = exactUCounts(m, n);
    const total = counts.reduce((sum, c) => sum + c, 0);
    let atMost = 0;
    let atLeast = 0;
    counts.forEach((count, value) => {
      if (value <= u) atMost += count;
      if (value >= u) atLeast += count;
    });
    return { u, pValue: Math.min(1, (2 * Math.min(atMost, atLeast)) / total), exact: true };
  }
  return { u, pValue: normalApproximationP(u, base, head), exact: false };
}

/** counts[u] = number of orderings of m head and n base values with statistic u. */
function exactUCounts(m: number, n: number): number[] {
  // table[i][j] is the distribution for i head and j base values; built up one value at a time:
  // the largest value is either a head value (beating all j base values) or a base value.
  let previousRow: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const row: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const headLargest = previousRow[j]!;
      const baseLargest = row[j - 1]!;
      const distribution = new Array<number>(i * j + 1).fill(0);
      headLargest.forEach((count, value) => (distribution[value + j]! += count));
      baseLargest.forEach((count, value) => (distribution[value]! += count));
      row.push(distribution);
    }
    previousRow = row;
  }
  return previousRow[n]!;
}

function normalApproximationP(u: number, base: readonly number[], head: readonly number[]): number {
  const m = head.length;
  const n = base.length;
  const total = m + n;
  const tieGroups = new Map<number, number>();
  for (const x of [...base, ...head]) tieGroups.set(x, (tieGroups.get(x) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of tieGroups.values()) tieTerm += t ** 3 - t;
  const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (!(variance > 0)) return 1;
  const z = Math.max(0, Math.abs(u - (m * n) / 2) - 0.5) / Math.sqrt(variance);
  // The approximation of the normal CDF is off by up to 1.5e-7; no difference at all is p = 1.
  if (z === 0) return 1;
  return Math.min(1, 2 * (1 - standardNormalCdf(z)));
}

/** Abramowitz and Stegun 7.1.26 (error below 1.5e-7), enough for a p-value shown to 3 digits. */
export function standardNormalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Sample standard deviation / mean; 0 with fewer than two samples or a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  if (mean === 0) return 0;
  const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance) / mean;
}
