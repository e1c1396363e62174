import type { CompletedCell } from '../results/schema.ts';
import { formatDuration, formatUsd } from '../report/format.ts';
import type { Constraint, ExclusionCounts, Picked, Strategy, ValidOptions } from './recommend.ts';

/**
 * The words of a recommendation (harness/analyze/recommend.ts): why the winner, against the
 * runner-up and at the knee, and why nothing is feasible. Pure, like the pick itself.
 */

/** The metrics the strategies rank by, shared with the pick. */
export const cost = (cell: CompletedCell): number => cell.costUsd.perMonth;
export const median = (cell: CompletedCell): number => cell.durationMs.median;

function formatPercent(share: number): string {
  const pct = share * 100;
  return pct < 1 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

function setting(cell: CompletedCell): string {
  return `${cell.concurrency} worker${cell.concurrency === 1 ? '' : 's'} at ${cell.memoryMb} MB`;
}

const CONSTRAINT_WORDS: Record<Constraint, string> = {
  completed: 'failed to complete',
  memory: 'ran out of memory',
  lambdaTimeout: 'reached the function timeout',
  maxErrorRate: 'over the error-rate limit',
  maxP95Ms: 'over the p95 limit',
};

/** The constraints that excluded cells, in the order of CONSTRAINTS (the order `excluded` was built in). */
function exclusionSummary(excluded: ExclusionCounts, except?: Constraint): string {
  return (Object.keys(excluded) as Constraint[])
    .filter((c) => c !== except && excluded[c] > 0)
    .map((c) => `${excluded[c]} ${CONSTRAINT_WORDS[c]}`)
    .join(', ');
}

const STRATEGY_WORDS: Record<Strategy, { superlative: string; comparative: string }> = {
  cost: { superlative: 'the cheapest', comparative: 'cheaper' },
  speed: { superlative: 'the fastest', comparative: 'faster' },
  balanced: { superlative: 'the best cost/duration balance', comparative: 'better balanced' },
};

export function explain(picked: Omit<Picked, 'recommendation'>, options: ValidOptions): string {
  const { winner, runnerUp, knee } = picked;
  const words = STRATEGY_WORDS[options.strategy];
  const sentences: string[] = [];

  const balance = options.strategy === 'balanced' ? `, weighing cost ${options.weight} and duration ${Number((1 - options.weight).toFixed(6))}` : '';
  const excludedCount = picked.totalCount - picked.feasibleCount;
  const excludedNote = excludedCount > 0 ? ` (${excludedCount} of ${picked.totalCount} excluded: ${exclusionSummary(picked.excluded)})` : '';
  sentences.push(
    `${setting(winner)} (${winner.architecture}): median ${formatDuration(winner.durationMs.median)}, ` +
      `p95 ${formatDuration(winner.durationMs.p95)}, ${formatUsd(winner.costUsd.perMonth)}/month, ` +
      `${words.superlative} of ${picked.feasibleCount} feasible setting${picked.feasibleCount === 1 ? '' : 's'}${balance}${excludedNote}.`,
  );

  if (runnerUp === null) {
    sentences.push('It is the only feasible setting.');
  } else {
    sentences.push(compareWithRunnerUp(picked, runnerUp, options));
  }

  if (knee.feasibleAtMemory === 1) {
    sentences.push(`It is the only feasible concurrency measured at ${knee.memoryMb} MB, so there is no knee to report.`);
  } else if (knee.concurrency < knee.bestConcurrency) {
    sentences.push(
      `At ${knee.memoryMb} MB, concurrency above ${knee.concurrency} buys less than ${formatPercent(knee.margin)}: ` +
        `${knee.concurrency} workers take ${formatDuration(knee.medianMs)}, the fastest (${knee.bestConcurrency}) ${formatDuration(knee.bestMedianMs)}.`,
    );
  } else {
    sentences.push(
      `At ${knee.memoryMb} MB, ${knee.bestConcurrency} workers is the fastest (${formatDuration(knee.bestMedianMs)}) and every lower concurrency is more than ${formatPercent(knee.margin)} slower.`,
    );
  }
  return sentences.join(' ');
}

function compareWithRunnerUp(picked: Omit<Picked, 'recommendation'>, runnerUp: CompletedCell, options: ValidOptions): string {
  const { winner } = picked;
  const other = `${setting(runnerUp)}${runnerUp.architecture === winner.architecture ? '' : ` ${runnerUp.architecture}`}`;
  const runnerFacts = `${formatDuration(runnerUp.durationMs.median)}, ${formatUsd(runnerUp.costUsd.perMonth)}/month`;
  let lead: string;
  const [winnerValue, runnerValue] =
    options.strategy === 'cost' ? [cost(winner), cost(runnerUp)] : options.strategy === 'speed' ? [median(winner), median(runnerUp)] : [undefined, undefined];
  if (winnerValue !== undefined && runnerValue !== undefined) {
    if (winnerValue === runnerValue) {
      lead = `It ties with the runner-up (${other}: ${runnerFacts}) on ${options.strategy} and wins the tie-break: ${tieBreak(winner, runnerUp, options.strategy)}`;
    } else {
      const gain = (runnerValue - winnerValue) / runnerValue;
      lead = `${formatPercent(gain)} ${STRATEGY_WORDS[options.strategy].comparative} than the runner-up (${other}: ${runnerFacts})`;
    }
  } else {
    const costGain = runnerUp.costUsd.perMonth > 0 ? (runnerUp.costUsd.perMonth - winner.costUsd.perMonth) / runnerUp.costUsd.perMonth : 0;
    const speedGain = runnerUp.durationMs.median > 0 ? (runnerUp.durationMs.median - winner.durationMs.median) / runnerUp.durationMs.median : 0;
    lead = `Against the runner-up (${other}: ${runnerFacts}) it is ${signedPercent(costGain, 'cheaper', 'dearer')} and ${signedPercent(speedGain, 'faster', 'slower')}`;
  }
  let certainty: string;
  if (options.verdict !== undefined) {
    return `${lead}. ${options.verdict}`;
  } else if (winner.reps.length < 2 || runnerUp.reps.length < 2) {
    certainty = 'with a single repetition there is no confidence interval, so run the sweep with --reps 3 or more before trusting the difference';
  } else if (picked.beatsRunnerUp) {
    certainty = 'and their 95% confidence intervals do not overlap';
  } else {
    certainty = 'but their 95% confidence intervals overlap, so the two are not clearly different; more repetitions would separate them';
  }
  return `${lead}${certainty.startsWith('and') || certainty.startsWith('but') ? ', ' : '; '}${certainty}.`;
}

function signedPercent(gain: number, better: string, worse: string): string {
  if (gain === 0) return `no different (${better === 'cheaper' ? 'cost' : 'duration'})`;
  return gain > 0 ? `${formatPercent(gain)} ${better}` : `${formatPercent(-gain)} ${worse}`;
}

function tieBreak(winner: CompletedCell, runnerUp: CompletedCell, strategy: Strategy): string {
  if (strategy === 'cost' && median(winner) !== median(runnerUp)) return 'it is faster';
  if (strategy !== 'cost' && cost(winner) !== cost(runnerUp)) return 'it is cheaper';
  if (winner.concurrency !== runnerUp.concurrency) return 'it uses fewer workers';
  if (winner.memoryMb !== runnerUp.memoryMb) return 'it uses less memory';
  return 'it comes first in order of architecture';
}

/** Why no cell is feasible: the constraint that excluded the most, and how far to relax it. */
export function noneFeasibleMessage(facts: {
  cellCount: number;
  binding: Constraint;
  excluded: ExclusionCounts;
  lowestP95Ms: number;
  lowestErrorRate: number;
  options: ValidOptions;
}): string {
  const { cellCount, binding, excluded, lowestP95Ms, lowestErrorRate, options } = facts;
  const hints: Record<Constraint, string> = {
    completed: "no cell completed; read the cells' errors and run the sweep again",
    memory: 'the job needs more memory than the sizes swept; sweep larger sizes with --memory',
    lambdaTimeout: `their p95 reached the function timeout of ${options.lambdaTimeoutS} s; raise lambda.timeoutS in the scenario (at most 900) or sweep higher concurrency`,
    maxErrorRate: `the lowest error rate was ${formatPercent(lowestErrorRate)} (${lowestErrorRate}); raise --max-error-rate to at least that`,
    maxP95Ms: `the lowest p95 was ${Math.ceil(lowestP95Ms)} ms; raise --max-p95-ms to at least ${Math.ceil(lowestP95Ms)}`,
  };
  const limit =
    binding === 'maxP95Ms' ? ` (--max-p95-ms ${options.maxP95Ms})` : binding === 'maxErrorRate' ? ` (--max-error-rate ${options.maxErrorRate})` : '';
  const others = exclusionSummary(excluded, binding);
  return (
    `no feasible setting among ${cellCount} cell${cellCount === 1 ? '' : 's'}: ` +
    `${excluded[binding]} ${CONSTRAINT_WORDS[binding]}${limit}; ${hints[binding]}` +
    (others ? ` (also: ${others})` : '')
  );
}
