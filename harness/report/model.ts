import { checkModel, MODEL_TOLERANCE } from '../analyze/model-check.ts';
import { isCompleted, type Cell, type CompletedCell, type Results } from '../results/schema.ts';
import { formatDuration, formatPercent, workers } from './format.ts';

/**
 * Pure: what the simulator and the classifier add to a results file, as the report shows it:
 * which columns the cell table gets, how far the simulator agreed with the replay, and what bounds
 * the job. Results written before these fields existed simply show none of it.
 */

export type ClassificationKind = NonNullable<Results['classification']>['kind'];

export const KIND_LABELS: Record<ClassificationKind, string> = {
  'io-bound': 'I/O-bound',
  mixed: 'Partly CPU-bound',
  'cpu-bound': 'CPU-bound',
};

/** The model columns worth a place in the cell table: those at least one completed cell has. */
export interface ModelColumns {
  /** projectedMs: the duration in production, the mock's own CPU left out. */
  projected: boolean;
  modelError: boolean;
  /** timeScaleCorrectionMs: only in time-scaled sweeps. */
  correction: boolean;
}

export function modelColumns(cells: readonly Cell[]): ModelColumns {
  const completed = cells.filter(isCompleted);
  return {
    projected: completed.some((cell) => cell.projectedMs !== undefined),
    modelError: completed.some((cell) => cell.modelError !== undefined),
    correction: completed.some((cell) => cell.timeScaleCorrectionMs !== undefined),
  };
}

export function columnCount(columns: ModelColumns): number {
  return Number(columns.projected) + Number(columns.modelError) + Number(columns.correction);
}

/** A model error as a signed percentage with one decimal: -0.0771 -> "−7.7%". */
export function formatModelError(error: number): string {
  const percent = (error * 100).toFixed(1);
  return error > 0 ? `+${percent}%` : error < 0 ? `−${percent.slice(1)}%` : '0.0%';
}

/** The cell's model values as table text, in column order; "–" where a cell lacks one. */
export function modelCells(cell: CompletedCell, columns: ModelColumns): string[] {
  const text: string[] = [];
  if (columns.projected) text.push(cell.projectedMs === undefined ? '–' : formatDuration(cell.projectedMs));
  if (columns.modelError) text.push(cell.modelError === undefined ? '–' : formatModelError(cell.modelError));
  if (columns.correction) text.push(cell.timeScaleCorrectionMs === undefined ? '–' : `−${formatDuration(cell.timeScaleCorrectionMs)}`);
  return text;
}

export interface ModelTrust {
  /** Faithful cells (fidelity within the limit) the simulator was held to. */
  checked: number;
  within: number;
  tolerance: number;
  worst: { concurrency: number; memoryMb: number; modelError: number } | undefined;
  /** One sentence for the report. */
  sentence: string;
}

/** How far the simulator agreed with the replay at the cells it is held to; undefined without model errors. */
export function modelTrust(cells: readonly Cell[], tolerance: number = MODEL_TOLERANCE): ModelTrust | undefined {
  if (!cells.some((cell) => isCompleted(cell) && cell.modelError !== undefined)) return undefined;
  const checks = checkModel(cells, tolerance);
  const within = checks.filter((check) => check.withinTolerance).length;
  const worst = checks.length ? checks.reduce((a, b) => (Math.abs(b.modelError) > Math.abs(a.modelError) ? b : a)) : undefined;
  const limit = `${Math.round(tolerance * 100)}%`;
  const sentence =
    checks.length === 0
      ? 'No cell was faithful enough (fidelity within the limit) to hold the simulator to.'
      : `The simulator agreed with the replay within ${limit} at ${within} of ${checks.length} faithful cells; the worst was ${formatModelError(worst!.modelError)} at ${workers(worst!.concurrency)}, ${worst!.memoryMb} MB.`;
  return {
    checked: checks.length,
    within,
    tolerance,
    worst: worst ? { concurrency: worst.concurrency, memoryMb: worst.memoryMb, modelError: worst.modelError } : undefined,
    sentence,
  };
}

/** "CPU busy 39% of the CPU it could use, at 60 workers, 128 MB." */
export function busySentence(classification: NonNullable<Results['classification']>): string {
  return `CPU busy ${formatPercent(classification.cpuBusy)} of the CPU it could use, at ${workers(classification.concurrency)}, ${classification.memoryMb} MB.`;
}
