import { classifyJob } from '../analyze/classify.ts';
import { decide } from '../analyze/race.ts';
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
  const outcome = options.simulated
    ? recommend(results.cells, options.recommend)
    : decide(results.cells, options.recommend, { equivalence: options.equivalence, ...(options.budgetS !== undefined ? { budgetS: options.budgetS } : {}) });
  const recommendation = outcome.kind === 'picked' ? outcome.recommendation : null;
  const warnings = outcome.kind === 'none' ? [...results.warnings, `No recommendation: ${outcome.message}`] : results.warnings;
  const classification = classifyJob(results.cells, results.scenario.work.threads, recommendation ?? undefined, {
    ...(options.recommend.maxErrorRate !== undefined ? { maxErrorRate: options.recommend.maxErrorRate } : {}),
    deployedFunction: isFunctionWorkload(results.scenario.workload),
  });
  const { classification: _stale, ...rest } = results;
  return { ...rest, recommendation, warnings, ...(classification ? { classification: withoutUndefined(classification) } : {}) };
}

/** JSON has no undefined: leave such fields out, as the results schema's optional fields expect. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
