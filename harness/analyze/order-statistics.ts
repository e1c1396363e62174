/**
 * Medians and percentiles, apart from the rest of statistics.ts: the scenario's plan needs a
 * median in every cell process, where the Student-t quantile (a few hundred modules of @stdlib)
 * would only add to the job's measured memory.
 */
import { quantileSorted } from 'simple-statistics';

declare const sortedBrand: unique symbol;
/** Samples in ascending order; only `sortSamples` makes one, so percentiles never see unsorted data. */
export type SortedSamples = readonly number[] & { readonly [sortedBrand]: true };

export function sortSamples(samples: readonly number[]): SortedSamples {
  if (samples.some((x) => !Number.isFinite(x))) throw new RangeError('samples must be finite numbers');
  return [...samples].sort((a, b) => a - b) as unknown as SortedSamples;
}

/** Linear-interpolation percentile (the R-7 / NumPy default), p in [0, 1]. */
export function percentile(sorted: SortedSamples, p: number): number {
  if (sorted.length === 0) throw new RangeError('no samples');
  return quantileSorted(sorted as unknown as number[], p);
}

/** The middle value, or the mean of the two middle ones: `percentile(…, 0.5)` of unsorted samples. */
export function median(samples: readonly number[]): number {
  return percentile(sortSamples(samples), 0.5);
}

/**
 * The same median, sorting the caller's scratch array in place and checking nothing: for inner
 * loops such as the bootstrap's, which must not allocate a copy per resample.
 */
export function medianInPlace(scratch: number[]): number {
  if (scratch.length === 0) throw new RangeError('no samples');
  scratch.sort((a, b) => a - b);
  const middle = scratch.length >> 1;
  return scratch.length % 2 === 1 ? scratch[middle]! : (scratch[middle - 1]! + scratch[middle]!) / 2;
}
