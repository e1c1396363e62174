import type { CompletedCell, Decision } from '../results/schema.ts';
import { cellKeyId, type CellKey } from '../results/cell-key.ts';
import { seededSequence } from '../scenario/random.ts';
import { recommend, type Picked, type RecommendOptions, metricSamples } from './recommend.ts';
import { median } from './statistics.ts';
import { bootstrapRatioOfMedians, mannWhitneyU } from './two-sample.ts';

/**
 * Racing the contenders (docs/recommend.md, Racing): after one screening repetition of every cell,
 * repetitions go only where they can change the answer, until the winner is told apart from each
 * rival, or shown equivalent to it, or the time budget is spent. Pure: the same cells and options
 * give the same verdicts; the bootstrap draws come from a fixed seed.
 */

export interface RaceOptions {
  /** Two settings whose metric differs by less than this share are equivalent (two one-sided tests). */
  equivalence: number;
}

export const DEFAULT_EQUIVALENCE = 0.02;
/** Wall seconds a sweep with --reps auto may spend before no further race round starts. */
export const DEFAULT_BUDGET_S = 60;
/**
 * Rivals are the feasible cells whose screened metric is within this share of the winner's: one
 * repetition of a cell at time scale 16 on this project's machine varies by 5 to 10%, so a cell
 * screened 10% behind may still be the best. Cells further behind are left out of the race.
 */
export const CONTENDER_MARGIN = 0.1;
/** At most this many rivals raced at once: the nearest by screened metric. */
export const MAX_RIVALS = 4;
/** Repetitions a contender needs before any verdict: fewer give no usable interval. */
export const MIN_RACE_REPS = 3;
/** Repetitions added to each open contender per round. */
export const ROUND_REPS = 2;
/** A contender gets no more than this many: past it the race ends undecided, whatever the budget. */
export const MAX_RACE_REPS = 30;

const SEPARATION_CONFIDENCE = 0.95;
/** Two one-sided tests at 5% each: a 90% interval inside the margin. */
const EQUIVALENCE_CONFIDENCE = 0.9;
const RESAMPLES = 2000;
const BOOTSTRAP_SEED = 20_261_203;

export type Verdict = 'separated' | 'equivalent' | 'open';
export type DecisionOutcome = 'separated' | 'equivalent' | 'undecided';

export interface RivalVerdict {
  key: CellKey;
  reps: number;
  verdict: Verdict;
  /** median(rival) / median(winner) of the strategy's metric, and its interval. */
  ratio: number;
  interval: [number, number];
  /** Mann-Whitney two-sided p-value of rival against winner. */
  pValue: number;
}

/**
 * How a rival stands against the winner, on per-repetition samples of the strategy's metric
 * (lower is better):
 * - separated: the rival is worse at 95% confidence: the bootstrap interval of the ratio of
 *   medians lies above 1, and the Mann-Whitney test agrees (p < 0.05; with 3 against 3
 *   repetitions it cannot, so separation takes at least 4 against 4);
 * - equivalent: the 90% interval of the ratio lies within 1 +/- the margin (two one-sided tests at 5%);
 * - open: neither yet, or either side has fewer than MIN_RACE_REPS repetitions.
 */
export function judgeRival(winner: readonly number[], rival: readonly number[], options: RaceOptions): Omit<RivalVerdict, 'key' | 'reps'> {
  const separation = bootstrapRatioOfMedians(winner, rival, {
    uniform: seededSequence(BOOTSTRAP_SEED),
    resamples: RESAMPLES,
    confidence: SEPARATION_CONFIDENCE,
  });
  const equivalence = bootstrapRatioOfMedians(winner, rival, {
    uniform: seededSequence(BOOTSTRAP_SEED),
    resamples: RESAMPLES,
    confidence: EQUIVALENCE_CONFIDENCE,
  });
  const { pValue } = mannWhitneyU(winner, rival);
  const enough = winner.length >= MIN_RACE_REPS && rival.length >= MIN_RACE_REPS;
  let verdict: Verdict = 'open';
  if (enough && separation.lower > 1 && pValue < 1 - SEPARATION_CONFIDENCE) verdict = 'separated';
  else if (enough && equivalence.lower >= 1 - options.equivalence && equivalence.upper <= 1 + options.equivalence) verdict = 'equivalent';
  return {
    verdict,
    ratio: separation.ratio,
    interval: verdict === 'equivalent' ? [equivalence.lower, equivalence.upper] : [separation.lower, separation.upper],
    pValue,
  };
}

export interface RaceState {
  picked: Picked;
  /** The winner's repetitions and each rival's verdict. */
  winnerReps: number;
  rivals: RivalVerdict[];
  /** separated: every rival separated; equivalent: none open, some equivalent; else undecided. */
  outcome: DecisionOutcome;
  /** The cells a further round should measure: the winner and the open rivals (empty when decided). */
  toMeasure: CellKey[];
}

/**
 * How far behind the winner a cell screened: by its measured metric, or by the simulator's estimate
 * of the same run (its duration from the repetitions' CPU time, less the time-scale correction as
 * the measured durations are), whichever is closer. One repetition's wall time can be thrown off by
 * the machine; the simulator's, built on CPU time and the scenario's draws, much less so.
 */
export function screenedGap(cell: CompletedCell, metricMedian: number, winnerMedian: number): number {
  const measured = metricMedian / winnerMedian - 1;
  if (cell.simulatedMs === undefined || !(cell.durationMs.median > 0)) return measured;
  const simulatedMs = cell.simulatedMs - (cell.timeScaleCorrectionMs ?? 0);
  return Math.min(measured, (metricMedian * simulatedMs) / cell.durationMs.median / winnerMedian - 1);
}

/** The winner and the open rivals that may still take repetitions; none when no rival may. */
function raceable(winner: CompletedCell, open: readonly RivalVerdict[]): CellKey[] {
  const rivals = open.filter((rival) => rival.reps < MAX_RACE_REPS).map((rival) => rival.key);
  if (rivals.length === 0) return [];
  return winner.reps.length < MAX_RACE_REPS ? [keyOf(winner), ...rivals] : rivals;
}

const keyOf = (cell: CompletedCell): CellKey => ({ concurrency: cell.concurrency, memoryMb: cell.memoryMb, architecture: cell.architecture });

/**
 * Where the race stands on these cells: the recommendation's winner, its rivals (feasible cells
 * within CONTENDER_MARGIN of it, the nearest MAX_RIVALS) and their verdicts. Undefined when no
 * cell is feasible.
 */
export function raceState(cells: Parameters<typeof recommend>[0], recommendOptions: RecommendOptions, options: RaceOptions): RaceState | undefined {
  const outcome = recommend(cells, recommendOptions);
  if (outcome.kind !== 'picked') return undefined;
  const { samples, feasible } = metricSamples(cells, recommendOptions);
  const winner = outcome.winner;
  const winnerSamples = samples(winner);
  const winnerMedian = median(winnerSamples);
  const rivals = feasible
    .filter((cell) => cellKeyId(cell) !== cellKeyId(winner))
    .map((cell) => ({ cell, gap: screenedGap(cell, median(samples(cell)), winnerMedian) }))
    .filter(({ gap }) => gap <= CONTENDER_MARGIN)
    .sort((a, b) => a.gap - b.gap)
    .slice(0, MAX_RIVALS)
    .map(({ cell }): RivalVerdict => ({ key: keyOf(cell), reps: cell.reps.length, ...judgeRival(winnerSamples, samples(cell), options) }));
  const open = rivals.filter((rival) => rival.verdict === 'open');
  const decided: DecisionOutcome = open.length > 0 ? 'undecided' : rivals.some((rival) => rival.verdict === 'equivalent') ? 'equivalent' : 'separated';
  return {
    picked: outcome,
    winnerReps: winner.reps.length,
    rivals,
    outcome: decided,
    toMeasure: raceable(winner, open),
  };
}

/**
 * Among settings shown equivalent, the one to deploy: the lower cost, then the lower concurrency
 * (fewer connections to the hosts and the database for the same result), then the smaller memory size.
 */
export function pickAmongEquivalent<T extends { costUsd: { perMonth: number }; concurrency: number; memoryMb: number }>(cells: readonly T[]): T {
  return [...cells].sort((a, b) => a.costUsd.perMonth - b.costUsd.perMonth || a.concurrency - b.concurrency || a.memoryMb - b.memoryMb)[0]!;
}

const settingOf = (key: CellKey): CellKey => ({ concurrency: key.concurrency, memoryMb: key.memoryMb, architecture: key.architecture });
const named = (key: CellKey): string => `${key.concurrency} worker${key.concurrency === 1 ? '' : 's'} at ${key.memoryMb} MB`;
const percent = (share: number): string => `${Number((share * 100).toFixed(1))}%`;

/** The race's verdict in words, for the recommendation's explanation. */
export function verdictWords(state: RaceState, equivalence: number, budgetS: number | undefined): string {
  const { rivals } = state;
  if (rivals.length === 0) return `No other feasible setting came within ${percent(CONTENDER_MARGIN)} of it.`;
  const list = (verdict: Verdict) => rivals.filter((rival) => rival.verdict === verdict);
  const reps = `${state.winnerReps} repetitions against ${rivals.map((rival) => rival.reps).join(', ')}`;
  if (state.outcome === 'separated') {
    return `Raced against the ${rivals.length} setting${rivals.length === 1 ? '' : 's'} within ${percent(CONTENDER_MARGIN)} of it (${reps}): each is worse at 95% confidence.`;
  }
  if (state.outcome === 'equivalent') {
    const same = list('equivalent').map((rival) => named(rival.key));
    return `Equivalent within ${percent(equivalence)} to ${same.join(', ')} (90% intervals of the ratio inside ±${percent(equivalence)}; ${reps}): any of them will do, and the pick among them is the cheapest, then the fewest workers.`;
  }
  const open = list('open').map(
    (rival) => `${named(rival.key)} (${rival.ratio >= 1 ? '+' : ''}${percent(rival.ratio - 1)}, interval ${rival.interval.map((x) => x.toFixed(3)).join('-')})`,
  );
  const more = budgetS !== undefined ? `run with --budget ${Math.max(2 * budgetS, 120)} to race longer` : 'run with --reps auto, or more --reps';
  return `Not decided${budgetS !== undefined ? ` within the ${budgetS} s budget` : ''}: ${open.join(', ')} ${open.length === 1 ? 'is' : 'are'} neither clearly worse nor within ${percent(equivalence)} (${reps}); ${more}.`;
}

/**
 * The recommendation with the race's decision: the verdict in its explanation, and among
 * equivalent settings the one the tie-breaker picks. Undefined fields stay as recommend() gives them.
 */
export function decide(
  cells: Parameters<typeof recommend>[0],
  recommendOptions: RecommendOptions,
  options: RaceOptions & { budgetS?: number },
): ReturnType<typeof recommend> {
  const state = raceState(cells, recommendOptions, options);
  if (!state) return recommend(cells, recommendOptions);
  const picked = recommend(cells, { ...recommendOptions, verdict: verdictWords(state, options.equivalence, options.budgetS) });
  if (picked.kind !== 'picked') return picked;
  const winner = picked.winner;
  const equivalents = state.rivals.filter((rival) => rival.verdict === 'equivalent').map((rival) => rival.key);
  const members =
    state.outcome === 'equivalent'
      ? [winner, ...metricSamples(cells, recommendOptions).feasible.filter((cell) => equivalents.some((key) => cellKeyId(key) === cellKeyId(cell)))]
      : [winner];
  const chosen = pickAmongEquivalent(members);
  const decision: Decision = {
    outcome: state.outcome,
    equivalence: options.equivalence,
    winnerReps: state.winnerReps,
    compared: state.rivals.map((rival) => ({
      ...settingOf(rival.key),
      reps: rival.reps,
      verdict: rival.verdict,
      ratio: rival.ratio,
      interval: rival.interval,
      pValue: rival.pValue,
    })),
    ...(state.outcome === 'equivalent' ? { equivalentSet: [chosen, ...members.filter((cell) => cell !== chosen)].map(settingOf) } : {}),
    ...(options.budgetS !== undefined ? { budgetS: options.budgetS } : {}),
  };
  if (chosen === winner) return { ...picked, recommendation: { ...picked.recommendation, decision } };
  return {
    ...picked,
    winner: chosen,
    recommendation: {
      ...picked.recommendation,
      concurrency: chosen.concurrency,
      memoryMb: chosen.memoryMb,
      architecture: chosen.architecture,
      durationMs: chosen.durationMs.median,
      costUsdPerMonth: chosen.costUsd.perMonth,
      why: `${named(chosen)} (${chosen.architecture}), equivalent to the best by ${picked.recommendation.strategy} and cheaper or with fewer workers. The best: ${picked.recommendation.why}`,
      decision,
    },
  };
}
