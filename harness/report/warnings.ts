import { modifiedZScores, OUTLIER_Z_SCORE } from '../analyze/outliers.ts';
import { isCompleted, type Results } from '../results/schema.ts';
import { judgedForFidelity } from '../analyze/fidelity.ts';
import { isFunctionWorkload } from '../workload/function-spec.ts';
import { failureVerb } from './cell-views.ts';
import { formatDuration, workers } from './format.ts';

import { FIDELITY_LIMIT } from '../results/schema.ts';

export { FIDELITY_LIMIT };

export type WarningKind = 'sweep' | 'fidelity' | 'outlier' | 'oom' | 'errored' | 'timeout';

export interface ReportWarning {
  kind: WarningKind;
  message: string;
}

function where(cell: { concurrency: number; memoryMb: number }): string {
  return `${workers(cell.concurrency)} at ${cell.memoryMb} MB`;
}

/**
 * Everything the reader should distrust or act on: the sweep's own warnings as written, then
 * what the report finds in the numbers (fidelity, outlying repetitions, failed cells). The two
 * may overlap; the sweep's wording is kept rather than guessed away.
 */
export function reportWarnings(results: Results): ReportWarning[] {
  const found: ReportWarning[] = results.warnings.map((message) => ({ kind: 'sweep', message }));
  const cells = [...results.cells].sort((a, b) => a.memoryMb - b.memoryMb || a.concurrency - b.concurrency);
  // Below a whole core a slow cell is the job's own CPU at its share, not the harness falling behind.
  const judged = new Set(judgedForFidelity(results.cells, { deployedFunction: isFunctionWorkload(results.scenario.workload) }));
  for (const cell of cells) {
    if (!isCompleted(cell)) {
      const fix =
        cell.state === 'oom'
          ? 'choose a larger memory size or fewer workers'
          : cell.state === 'timeout'
            ? 'the setting is infeasible within the function timeout'
            : 'see the error and rerun the cell';
      found.push({ kind: cell.state, message: `${where(cell)} ${failureVerb(cell)}: ${cell.error}. ${capitalize(fix)}.` });
      continue;
    }
    if (cell.fidelityRatio > FIDELITY_LIMIT && judged.has(cell)) {
      found.push({
        kind: 'fidelity',
        message: `${where(cell)} took ${cell.fidelityRatio.toFixed(2)}× the ideal makespan (limit ${FIDELITY_LIMIT.toFixed(2)}): the harness itself may be the bottleneck, so this duration is pessimistic.`,
      });
    }
    const durations = cell.reps.map((r) => r.durationMs);
    modifiedZScores(durations).forEach((z, i) => {
      if (Math.abs(z) <= OUTLIER_Z_SCORE) return;
      found.push({
        kind: 'outlier',
        message: `${where(cell)}: repetition ${i + 1} took ${formatDuration(durations[i]!)} against a median of ${formatDuration(cell.durationMs.median)} (modified Z-score ${z.toFixed(1)}). Rerun with more --reps or on a quieter machine.`,
      });
    });
  }
  // Grouped by what to do about them: failed cells first, then numbers to distrust.
  return found.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}

const KIND_ORDER: readonly WarningKind[] = ['sweep', 'oom', 'errored', 'timeout', 'outlier', 'fidelity'];

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
