import { billedDurationMs, invocationCost } from '../model/pricing.ts';
import { cellKeyId } from '../results/cell-key.ts';
import { FIDELITY_LIMIT, isCompleted, type Cell, type CompletedCell } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import { judgedForFidelity } from './fidelity.ts';
import type { recommend } from './recommend.ts';
import { sortSamples, summarize } from './statistics.ts';

/**
 * Where the replay is not faithful (fidelity above the limit where the harness is judged), its
 * measurement shows the harness more than the job: the recommendation is made from the
 * simulator's projection there instead (docs/recommend.md, Measured or projected). Pure.
 *
 * Such a cell is replaced by one whose repetitions are scaled so that their median is its
 * `projectedMs`, and whose billed duration and cost follow: the race then weighs the projection
 * with the measurement's own spread. The cost changes by exactly what the billed duration adds
 * or saves at the cell's memory size, so request charges and cold starts priced into it stay.
 */
export function projectedWhereUnfaithful(
  cells: readonly Cell[],
  scenario: Pick<Scenario, 'lambda'>,
  options: { deployedFunction?: boolean } = {},
): { cells: Cell[]; projected: CompletedCell[] } {
  const unfaithful = new Set(
    judgedForFidelity(cells, options).filter((cell) => cell.fidelityRatio > FIDELITY_LIMIT && cell.projectedMs !== undefined && cell.durationMs.median > 0),
  );
  const projected: CompletedCell[] = [];
  const result = cells.map((cell): Cell => {
    if (!isCompleted(cell) || !unfaithful.has(cell)) return cell;
    const replaced = atProjection(cell, scenario);
    projected.push(replaced);
    return replaced;
  });
  return { cells: result, projected };
}

function atProjection(cell: CompletedCell, scenario: Pick<Scenario, 'lambda'>): CompletedCell {
  const factor = cell.projectedMs! / cell.durationMs.median;
  const reps = cell.reps.map((rep) => ({ ...rep, durationMs: rep.durationMs * factor }));
  const durationMs = summarize(sortSamples(reps.map((rep) => rep.durationMs)));
  const billedMs = billedDurationMs(durationMs.median);
  const priced = (billed: number) =>
    invocationCost({
      billedMs: billed,
      memoryMb: cell.memoryMb,
      architecture: cell.architecture,
      invocationsPerMonth: scenario.lambda.invocationsPerMonth,
      region: scenario.lambda.region,
    });
  const before = priced(cell.billedMs);
  const after = priced(billedMs);
  return {
    ...cell,
    reps,
    durationMs,
    billedMs,
    costUsd: {
      perInvocation: cell.costUsd.perInvocation + after.perInvocation - before.perInvocation,
      perMonth: cell.costUsd.perMonth + after.perMonth - before.perMonth,
    },
  };
}

type RecommendOutcome = ReturnType<typeof recommend>;

/**
 * The recommendation says which duration it used: `durationFrom` "projection" (and why, in its
 * `why`) when its pick was one of the projected cells, else "measurement".
 */
export function sayDurationSource(outcome: RecommendOutcome, projected: readonly CompletedCell[]): RecommendOutcome {
  if (outcome.kind !== 'picked') return outcome;
  const { winner, recommendation } = outcome;
  if (!projected.some((cell) => cellKeyId(cell) === cellKeyId(winner))) {
    return { ...outcome, recommendation: { ...recommendation, durationFrom: 'measurement' } };
  }
  const why = `${recommendation.why} Its duration is the simulator's projection: the replay ran at ${winner.fidelityRatio.toFixed(2)}x its ideal there (limit ${FIDELITY_LIMIT}), so its measurement shows the harness more than the job.`;
  return { ...outcome, recommendation: { ...recommendation, why, durationFrom: 'projection' } };
}
