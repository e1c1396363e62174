import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { Histogram, Summary } from '../results/schema.ts';
import { percentile, sortSamples, type SortedSamples } from './order-statistics.ts';
export { median, medianInPlace, percentile, sortSamples, type SortedSamples } from './order-statistics.ts';

/** Median, mean, p95 and the Student-t 95% confidence interval of the mean. */
export function summarize(sorted: SortedSamples): Summary {
  if (sorted.length === 0) throw new RangeError('no samples');
  const values = sorted as unknown as number[];
  const m = ssMean(values);
  let ci95: [number, number] = [m, m];
  if (values.length > 1) {
    const halfWidth = tQuantile(0.975, values.length - 1) * (sampleStandardDeviation(values) / Math.sqrt(values.length));
    ci95 = [Math.max(0, m - halfWidth), m + halfWidth];
  }
  return { median: percentile(sorted, 0.5), mean: m, p95: percentile(sorted, 0.95), ci95 };
}

/**
 * Log-spaced latency buckets (1 ms to ~16 min, 8 per doubling): exact counts merge across
 * repetitions and processes, which averaged percentiles cannot.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Array.from({ length: 8 * 20 + 1 }, (_, i) => Number((2 ** (i / 8)).toPrecision(6)));

export function histogram(samplesMs: readonly number[], upperBoundsMs: readonly number[] = LATENCY_BUCKETS_MS): Histogram {
  const counts = new Array<number>(upperBoundsMs.length).fill(0);
  for (const x of samplesMs) {
    let lo = 0;
    let hi = upperBoundsMs.length - 1;
    // First bucket whose upper bound is >= x; the last bucket takes everything above.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (upperBoundsMs[mid]! >= x) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]! += 1;
  }
  // Trim empty buckets at both ends so results files stay small.
  const first = counts.findIndex((c) => c > 0);
  if (first < 0) return { upperBoundsMs: [], counts: [] };
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  return { upperBoundsMs: upperBoundsMs.slice(first, last + 1), counts: counts.slice(first, last + 1) };
}

export function mergeHistograms(parts: readonly Histogram[]): Histogram {
  const byBound = new Map<number, number>();
  for (const part of parts) {
    part.upperBoundsMs.forEach((bound, i) => byBound.set(bound, (byBound.get(bound) ?? 0) + part.counts[i]!));
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { upperBoundsMs: bounds, counts: bounds.map((b) => byBound.get(b)!) };
}
