/**
 * The settings worth considering when both speed and cost matter: a point is on the Pareto front
 * when no other point is at least as fast and as cheap and strictly better in one of the two.
 */
export interface DurationCostPoint {
  durationMs: number;
  costUsdPerMonth: number;
}

export function dominates(a: DurationCostPoint, b: DurationCostPoint): boolean {
  return a.durationMs <= b.durationMs && a.costUsdPerMonth <= b.costUsdPerMonth && (a.durationMs < b.durationMs || a.costUsdPerMonth < b.costUsdPerMonth);
}

/**
 * The non-dominated points from fastest to cheapest; equal points are all kept. Quadratic, which
 * is nothing for a grid of a few hundred cells and obviously right.
 */
export function paretoFront<T extends DurationCostPoint>(points: readonly T[]): T[] {
  return points.filter((p) => !points.some((q) => dominates(q, p))).sort((a, b) => a.durationMs - b.durationMs || a.costUsdPerMonth - b.costUsdPerMonth);
}
