/**
 * How many repetitions a comparison needs (docs/ci.md, Repetitions): the arithmetic behind the
 * CI gate's advice, and the smallest p-value a rank test can reach with so few. Pure.
 */

/**
 * Repetitions per side so that the interval of the ratio is no wider than the threshold:
 * n = ceil((REPS_RULE_FACTOR * CV / threshold)^2). The width of the ratio of two medians is about
 * 2 * 1.96 * sqrt(2) * 1.2533 * CV / sqrt(n) (two sides, the median's asymptotic efficiency);
 * a bootstrap simulation (normal noise, CV 2-10%, n 3-30) gave 1.07-1.36 in place of 1.2533, so
 * the factor is rounded up from 6.95 to 7.5 (= 1.35 in place of 1.2533).
 */
export const REPS_RULE_FACTOR = 7.5;

/** The smallest two-sided Mann-Whitney p-value m and n repetitions can give: 2 / C(m+n, m). */
export function smallestPossiblePValue(m: number, n: number): number {
  let orderings = 1;
  for (let i = 1; i <= m; i++) orderings = (orderings * (n + i)) / i;
  return Math.min(1, 2 / orderings);
}

/**
 * Repetitions per side for an interval no wider than the threshold (see REPS_RULE_FACTOR), and
 * never fewer than the Mann-Whitney test needs to reach significance at all (4 at alpha 0.05).
 */
export function repetitionsNeeded(pooledCv: number, thresholdPct: number, alpha = 0.05): number {
  let minimum = 2;
  while (smallestPossiblePValue(minimum, minimum) >= alpha) minimum++;
  // The epsilon keeps an exact square such as 9 from becoming 10 through rounding error.
  const fromNoise = Math.ceil(((REPS_RULE_FACTOR * pooledCv) / (thresholdPct / 100)) ** 2 - 1e-9);
  return Math.max(minimum, fromNoise);
}

/**
 * The same estimate from the interval actually observed: its width shrinks as 1 / sqrt(n), so
 * n * (width / threshold)^2 repetitions would bring it down to the threshold. Taken together with
 * the coefficient-of-variation rule so that the advice never asks for fewer repetitions than
 * the ones that just proved too few.
 */
export function repetitionsFromInterval(width: number, reps: number, threshold: number): number {
  return Math.ceil(reps * (width / threshold) ** 2 - 1e-9);
}
