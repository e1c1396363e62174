import { InputError } from '../errors.ts';
import { isCompleted, type Cell, type CompletedCell, type Recommendation } from '../results/schema.ts';
import { cost, explain, median, noneFeasibleMessage } from './recommend-words.ts';

/**
 * Picks the settings to deploy from a sweep's cells. Pure: the same cells and options always give
 * the same answer, tie-breaks included.
 *
 * Strategies (as in AWS Lambda Power Tuning's analyzer):
 * - cost: lowest costUsd.perMonth; ties go to the faster, then the lower concurrency, then the
 *   smaller memory size.
 * - speed: lowest median duration; ties go to the cheaper, then the same order.
 * - balanced: lowest W x cost + (1 - W) x duration, both min-max normalised over the feasible cells,
 *   so W = 1 is `cost` and W = 0 is `speed`.
 */

export const STRATEGIES = ['cost', 'speed', 'balanced'] as const;

/**
 * The commands' default limit on failed requests: a setting that drops more than 1% of its rows
 * is not cheaper, it does less work. A flag overrides it.
 */
export const DEFAULT_MAX_ERROR_RATE = 0.01;
export type Strategy = (typeof STRATEGIES)[number];

/** The limits a cell must meet, in the order they are reported. */
export const CONSTRAINTS = ['completed', 'memory', 'lambdaTimeout', 'maxErrorRate', 'maxP95Ms'] as const;
export type Constraint = (typeof CONSTRAINTS)[number];

export interface RecommendOptions {
  /** cost | speed | balanced; default cost. A string so that a flag's value can be passed as is. */
  strategy?: string;
  /** Balanced only: the weight of cost against duration, in [0, 1]; default 0.5. */
  weight?: number;
  /** Feasible cells have durationMs.p95 at most this. */
  maxP95Ms?: number;
  /** Feasible cells have errorRate at most this, in [0, 1]. No limit by default. */
  maxErrorRate?: number;
  /** The function timeout (scenario lambda.timeoutS); feasible cells have p95 below it. Default 900. */
  lambdaTimeoutS?: number;
  /** The knee is the lowest concurrency within this share of the fastest at the chosen memory; default 0.05. */
  kneeMargin?: number;
  /** A race's verdict in words (race.ts), said in place of the comparison of confidence intervals. */
  verdict?: string;
}

export interface Knee {
  memoryMb: number;
  /** The smallest concurrency whose median is within `margin` of the fastest at this memory size. */
  concurrency: number;
  medianMs: number;
  /** The fastest feasible concurrency at this memory size and its median. */
  bestConcurrency: number;
  bestMedianMs: number;
  margin: number;
  /** Feasible concurrencies measured at this memory size; with one, there is no curve to bend. */
  feasibleAtMemory: number;
}

export type ExclusionCounts = Record<Constraint, number>;

export interface Picked {
  kind: 'picked';
  recommendation: Recommendation;
  winner: CompletedCell;
  runnerUp: CompletedCell | null;
  /**
   * The winner's 95% interval on the strategy's metric lies entirely below the runner-up's.
   * Metric intervals: speed uses durationMs.ci95; cost scales durationMs.ci95 by
   * costUsd.perMonth / median (as if the whole bill scaled with duration: the request charge does
   * not, so the interval is a little wider than the truth, which errs on the side of "not sure");
   * balanced scores both ends of those two intervals. True when there is no runner-up; false when
   * either cell has a single repetition, since one run gives no interval.
   */
  beatsRunnerUp: boolean;
  /** [low, high] of the strategy's metric for the winner and the runner-up (null without one). */
  winnerInterval: [number, number];
  runnerUpInterval: [number, number] | null;
  knee: Knee;
  feasibleCount: number;
  totalCount: number;
  /** Cells each constraint excluded; a cell can break several, so these may sum to more than the excluded cells. */
  excluded: ExclusionCounts;
}

export interface NoneFeasible {
  kind: 'none';
  /** The constraint that excluded the most cells (on a tie, the later one in CONSTRAINTS). */
  bindingConstraint: Constraint;
  excluded: ExclusionCounts;
  totalCount: number;
  message: string;
}

export type RecommendOutcome = Picked | NoneFeasible;

export interface ValidOptions {
  strategy: Strategy;
  weight: number;
  maxP95Ms: number | undefined;
  maxErrorRate: number | undefined;
  lambdaTimeoutS: number;
  kneeMargin: number;
  verdict: string | undefined;
}

function validate(options: RecommendOptions): ValidOptions {
  const strategy = options.strategy ?? 'cost';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new InputError({ field: '--strategy', problem: `unknown strategy "${strategy}"`, fix: `use one of ${STRATEGIES.join(', ')}` });
  }
  if (options.weight !== undefined) {
    if (strategy !== 'balanced') {
      throw new InputError({
        field: '--weight',
        problem: `only applies to the balanced strategy, not "${strategy}"`,
        fix: 'add --strategy balanced or drop --weight',
      });
    }
    if (!(Number.isFinite(options.weight) && options.weight >= 0 && options.weight <= 1)) {
      throw new InputError({ field: '--weight', problem: `must be in [0, 1], got ${options.weight}`, fix: 'use 0 for speed only, 1 for cost only, e.g. 0.5' });
    }
  }
  if (options.maxP95Ms !== undefined && !(Number.isFinite(options.maxP95Ms) && options.maxP95Ms > 0)) {
    throw new InputError({ field: '--max-p95-ms', problem: `must be a positive number of ms, got ${options.maxP95Ms}`, fix: 'e.g. --max-p95-ms 10000' });
  }
  if (options.maxErrorRate !== undefined && !(Number.isFinite(options.maxErrorRate) && options.maxErrorRate >= 0 && options.maxErrorRate <= 1)) {
    throw new InputError({
      field: '--max-error-rate',
      problem: `must be a share in [0, 1], got ${options.maxErrorRate}`,
      fix: 'e.g. --max-error-rate 0.01 for 1%',
    });
  }
  const lambdaTimeoutS = options.lambdaTimeoutS ?? 900;
  if (!(Number.isFinite(lambdaTimeoutS) && lambdaTimeoutS > 0)) {
    throw new InputError({
      field: 'lambda.timeoutS',
      problem: `must be a positive number of seconds, got ${lambdaTimeoutS}`,
      fix: 'set 1 to 900 in the scenario',
    });
  }
  const kneeMargin = options.kneeMargin ?? 0.05;
  if (!(Number.isFinite(kneeMargin) && kneeMargin >= 0)) {
    throw new InputError({ field: 'kneeMargin', problem: `must be a non-negative share, got ${kneeMargin}`, fix: 'e.g. 0.05 for 5%' });
  }
  return {
    strategy: strategy as Strategy,
    weight: options.weight ?? 0.5,
    maxP95Ms: options.maxP95Ms,
    maxErrorRate: options.maxErrorRate,
    lambdaTimeoutS,
    kneeMargin,
    verdict: options.verdict,
  };
}

/** Every constraint the cell breaks (empty: feasible). */
function violations(cell: Cell, options: ValidOptions): Constraint[] {
  if (!isCompleted(cell)) {
    if (cell.state === 'oom') return ['memory'];
    if (cell.state === 'timeout') return ['lambdaTimeout'];
    return ['completed'];
  }
  const broken: Constraint[] = [];
  if (cell.peakRssMb >= cell.memoryMb) broken.push('memory');
  if (cell.durationMs.p95 >= options.lambdaTimeoutS * 1000) broken.push('lambdaTimeout');
  if (options.maxErrorRate !== undefined && cell.errorRate > options.maxErrorRate) broken.push('maxErrorRate');
  if (options.maxP95Ms !== undefined && cell.durationMs.p95 > options.maxP95Ms) broken.push('maxP95Ms');
  return broken;
}

export function recommend(cells: readonly Cell[], options: RecommendOptions = {}): RecommendOutcome {
  const valid = validate(options);
  const excluded = Object.fromEntries(CONSTRAINTS.map((c) => [c, 0])) as ExclusionCounts;
  const feasible: CompletedCell[] = [];
  for (const cell of cells) {
    const broken = violations(cell, valid);
    for (const constraint of broken) excluded[constraint] += 1;
    if (broken.length === 0 && isCompleted(cell)) feasible.push(cell);
  }
  if (feasible.length === 0) return noneFeasible(cells, excluded, valid);

  const metric = strategyMetric(feasible, valid);
  const ranked = [...feasible].sort(metric.compare);
  const winner = ranked[0]!;
  const runnerUp = ranked[1] ?? null;
  const winnerInterval = metric.interval(winner);
  const runnerUpInterval = runnerUp ? metric.interval(runnerUp) : null;
  const beatsRunnerUp = runnerUp === null || (winner.reps.length > 1 && runnerUp.reps.length > 1 && winnerInterval[1] < runnerUpInterval![0]);
  const knee = findKnee(feasible, winner, valid.kneeMargin);
  const picked: Omit<Picked, 'recommendation'> = {
    kind: 'picked',
    winner,
    runnerUp,
    beatsRunnerUp,
    winnerInterval,
    runnerUpInterval,
    knee,
    feasibleCount: feasible.length,
    totalCount: cells.length,
    excluded,
  };
  return {
    ...picked,
    recommendation: {
      strategy: valid.strategy,
      concurrency: winner.concurrency,
      memoryMb: winner.memoryMb,
      architecture: winner.architecture,
      durationMs: winner.durationMs.median,
      costUsdPerMonth: winner.costUsd.perMonth,
      why: explain(picked, valid),
    },
  };
}

/**
 * The strategy's metric per repetition of each feasible cell, for racing (race.ts): a repetition's
 * duration, its cost (the cell's cost scaled by the repetition's duration, as the intervals are),
 * or their balanced score, normalised over the feasible cells' medians.
 */
export function metricSamples(cells: readonly Cell[], options: RecommendOptions): { feasible: CompletedCell[]; samples: (cell: CompletedCell) => number[] } {
  const valid = validate(options);
  const feasible = cells.filter((cell): cell is CompletedCell => isCompleted(cell) && violations(cell, valid).length === 0);
  const costOfRep = (cell: CompletedCell, durationMs: number): number =>
    cell.durationMs.median > 0 ? (cell.costUsd.perMonth * durationMs) / cell.durationMs.median : cell.costUsd.perMonth;
  if (valid.strategy === 'cost') return { feasible, samples: (cell) => cell.reps.map((rep) => costOfRep(cell, rep.durationMs)) };
  if (valid.strategy === 'speed') return { feasible, samples: (cell) => cell.reps.map((rep) => rep.durationMs) };
  const score = balancedScore(feasible, valid.weight);
  return { feasible, samples: (cell) => cell.reps.map((rep) => score(costOfRep(cell, rep.durationMs), rep.durationMs)) };
}

function balancedScore(feasible: CompletedCell[], weight: number): (costUsd: number, durationMs: number) => number {
  const normCost = minMax(feasible.map(cost));
  const normDuration = minMax(feasible.map(median));
  return (costUsd, durationMs) => weight * normCost(costUsd) + (1 - weight) * normDuration(durationMs);
}

interface StrategyMetric {
  compare: (a: CompletedCell, b: CompletedCell) => number;
  /** [low, high] of the metric the strategy minimises. */
  interval: (cell: CompletedCell) => [number, number];
  value: (cell: CompletedCell) => number;
}

function costInterval(cell: CompletedCell): [number, number] {
  const median = cell.durationMs.median;
  if (median <= 0) return [cell.costUsd.perMonth, cell.costUsd.perMonth];
  const perMs = cell.costUsd.perMonth / median;
  return [cell.durationMs.ci95[0] * perMs, cell.durationMs.ci95[1] * perMs];
}

/** Sort keys compared in order; the last ones make the order total. */
function byKeys(keys: ((cell: CompletedCell) => number | string)[]) {
  return (a: CompletedCell, b: CompletedCell): number => {
    for (const key of keys) {
      const x = key(a);
      const y = key(b);
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  };
}

const concurrency = (cell: CompletedCell): number => cell.concurrency;
const memory = (cell: CompletedCell): number => cell.memoryMb;
const architecture = (cell: CompletedCell): string => cell.architecture;

function minMax(values: number[]): (value: number) => number {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (value) => (hi > lo ? (value - lo) / (hi - lo) : 0);
}

function strategyMetric(feasible: CompletedCell[], options: ValidOptions): StrategyMetric {
  if (options.strategy === 'cost') {
    return { value: cost, interval: costInterval, compare: byKeys([cost, median, concurrency, memory, architecture]) };
  }
  if (options.strategy === 'speed') {
    return {
      value: median,
      interval: (cell) => [cell.durationMs.ci95[0], cell.durationMs.ci95[1]],
      compare: byKeys([median, cost, concurrency, memory, architecture]),
    };
  }
  const score = balancedScore(feasible, options.weight);
  const value = (cell: CompletedCell): number => score(cost(cell), median(cell));
  return {
    value,
    interval: (cell) => {
      const [costLow, costHigh] = costInterval(cell);
      return [score(costLow, cell.durationMs.ci95[0]), score(costHigh, cell.durationMs.ci95[1])];
    },
    compare: byKeys([value, cost, median, concurrency, memory, architecture]),
  };
}

function findKnee(feasible: CompletedCell[], winner: CompletedCell, margin: number): Knee {
  const sameSize = feasible
    .filter((cell) => cell.memoryMb === winner.memoryMb && cell.architecture === winner.architecture)
    .sort(byKeys([concurrency, median]));
  const best = [...sameSize].sort(byKeys([median, concurrency]))[0]!;
  const knee = sameSize.find((cell) => cell.durationMs.median <= best.durationMs.median * (1 + margin))!;
  return {
    memoryMb: winner.memoryMb,
    concurrency: knee.concurrency,
    medianMs: knee.durationMs.median,
    bestConcurrency: best.concurrency,
    bestMedianMs: best.durationMs.median,
    margin,
    feasibleAtMemory: sameSize.length,
  };
}

function noneFeasible(cells: readonly Cell[], excluded: ExclusionCounts, options: ValidOptions): NoneFeasible {
  if (cells.length === 0) {
    return { kind: 'none', bindingConstraint: 'completed', excluded, totalCount: 0, message: 'the results file has no cells; run the sweep first' };
  }
  let binding: Constraint = 'completed';
  for (const constraint of CONSTRAINTS) {
    if (excluded[constraint] >= excluded[binding]) binding = constraint;
  }
  const completed = cells.filter(isCompleted);
  const message = noneFeasibleMessage({
    cellCount: cells.length,
    binding,
    excluded,
    lowestP95Ms: Math.min(...completed.map((c) => c.durationMs.p95)),
    lowestErrorRate: Math.min(...completed.map((c) => c.errorRate)),
    options,
  });
  return { kind: 'none', bindingConstraint: binding, excluded, totalCount: cells.length, message };
}
