import { median as medianOf } from './statistics.ts';

/**
 * Outlying repetitions by the modified Z-score of Iglewicz and Hoaglin, as hyperfine flags them:
 * it uses the median and the median absolute deviation, so one wild value cannot hide itself by
 * inflating the spread it is measured against.
 */
export const OUTLIER_Z_SCORE = 3.5;

/** 0.6745 makes the MAD of a normal sample comparable to its standard deviation. */
const MAD_TO_SD = 0.6745;

/**
 * One score per sample, in the order given. When more than half the samples are equal the MAD
 * is 0 and there is no spread to judge against: every score is then 0 rather than infinite.
 */
export function modifiedZScores(samples: readonly number[]): number[] {
  if (samples.length === 0) return [];
  const median = medianOf(samples);
  const mad = medianOf(samples.map((x) => Math.abs(x - median)));
  if (mad === 0) return samples.map(() => 0);
  return samples.map((x) => (MAD_TO_SD * (x - median)) / mad);
}

/** Indexes of the samples whose modified Z-score exceeds 3.5 in absolute value. */
export function outlierIndexes(samples: readonly number[]): number[] {
  return modifiedZScores(samples).flatMap((z, i) => (Math.abs(z) > OUTLIER_Z_SCORE ? [i] : []));
}
