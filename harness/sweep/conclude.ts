import { classifyJob } from '../analyze/classify.ts';
import { decide } from '../analyze/race.ts';
import { projectedWhereUnfaithful, sayDurationSource } from '../analyze/projected-where-unfaithful.ts';
import { recommend, type RecommendOptions } from '../analyze/recommend.ts';
import type { Results } from '../results/schema.ts';
import { isFunctionWorkload } from '../workload/function-spec.ts';

/**
 * What every finished grid gets, whether one sweep measured it or `merge` joined its shards: the
 * recommendation (with the race's decision on the repetitions measured), a warning when nothing
 * is feasible, and what limits the job. Pure: it reads the cells and returns the results with
 * those three filled in.
 */
export function concludeSweep(
  results: Results,
  options: {
    recommend: RecommendOptions;
    equivalence: number;
    /** The race's budget, when the sweep raced. */
    budgetS?: number;
    /** The simulator's cells have no repetitions to judge: there is nothing to race. */
    simulated?: boolean;
  },
): Results {
  const outcome = recommendFromResults(results, options);
  const recommendation = outcome.kind === 'picked' ? outcome.recommendation : null;
  const warnings = outcome.kind === 'none' ? [...results.warnings, `No recommendation: ${outcome.message}`] : results.warnings;
  const classification = classifyJob(results.cells, results.scenario.work.threads, recommendation ?? undefined, {
    ...(options.recommend.maxErrorRate !== undefined ? { maxErrorRate: options.recommend.maxErrorRate } : {}),
    deployedFunction: isFunctionWorkload(results.scenario.workload),
  });
  const { classification: _stale, ...rest } = results;
  return { ...rest, recommendation, warnings, ...(classification ? { classification: withoutUndefined(classification) } : {}) };
}

/**
 * The pick, from the measurements where the replay was faithful and from the simulator's
 * projection where it was not (harness/analyze/projected-where-unfaithful.ts), raced on the
 * repetitions unless the cells are the simulator's own; the recommendation says which it used.
 */
export function recommendFromResults(
  results: Pick<Results, 'cells' | 'scenario'>,
  options: { recommend: RecommendOptions; equivalence: number; budgetS?: number; simulated?: boolean },
): ReturnType<typeof recommend> {
  const trusted = projectedWhereUnfaithful(results.cells, results.scenario, { deployedFunction: isFunctionWorkload(results.scenario.workload) });
  const outcome = options.simulated
    ? recommend(trusted.cells, options.recommend)
    : decide(trusted.cells, options.recommend, { equivalence: options.equivalence, ...(options.budgetS !== undefined ? { budgetS: options.budgetS } : {}) });
  return sayDurationSource(outcome, trusted.projected);
}

/** JSON has no undefined: leave such fields out, as the results schema's optional fields expect. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
