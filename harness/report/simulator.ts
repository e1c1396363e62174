import { summarize, sortSamples } from '../analyze/statistics.ts';
import { checkModel, MODEL_TOLERANCE, type ModelCheck } from '../analyze/model-check.ts';
import { FIDELITY_LIMIT, isCompleted, type CompletedCell, type Results } from '../results/schema.ts';
import { formatDuration, formatPercent, formatSignedPercent, workers } from './format.ts';

/**
 * What the simulator adds to a results file, as the report shows it: the production projection
 * and the model error of each cell, the time-scale correction, and how far the simulator agreed
 * with the replay. Pure. Every field is optional in the results contract (older files and
 * simulated sweeps lack them), so a column or section exists only when some cell carries it.
 */

/** The optional columns of the results table. */
export interface ModelColumns {
  projected: boolean;
  modelError: boolean;
  /** Only for a time-scaled sweep whose cells were modelled. */
  timeScaleCorrection: boolean;
}

export function modelColumns(results: Results): ModelColumns {
  const completed = results.cells.filter(isCompleted);
  return {
    projected: completed.some((c) => c.projectedMs !== undefined),
    modelError: completed.some((c) => c.modelError !== undefined),
    timeScaleCorrection: results.method.timeScale > 1 && completed.some((c) => c.timeScaleCorrectionMs !== undefined || c.simulatedMs !== undefined),
  };
}

export function hasModelColumns(columns: ModelColumns): boolean {
  return columns.projected || columns.modelError || columns.timeScaleCorrection;
}

/** One cell's model figures as table text; "–" where the cell does not carry the field. */
export interface ModelCellText {
  projected: string;
  modelError: string;
  /** A faithful cell where simulator and replay differ by more than the tolerance. */
  modelErrorOff: boolean;
  /** The change made to the measured duration: "−120 ms" when time scaling had added 120 ms. */
  timeScaleCorrection: string;
}

export function modelCellText(cell: CompletedCell, tolerance: number = MODEL_TOLERANCE): ModelCellText {
  // The sweep leaves a zero correction out; a modelled cell without one was corrected by nothing.
  const correction = cell.timeScaleCorrectionMs ?? (cell.simulatedMs !== undefined ? 0 : undefined);
  return {
    projected: cell.projectedMs === undefined ? '–' : formatDuration(cell.projectedMs),
    modelError: cell.modelError === undefined ? '–' : formatSignedPercent(cell.modelError),
    modelErrorOff: cell.modelError !== undefined && cell.fidelityRatio <= FIDELITY_LIMIT && Math.abs(cell.modelError) > tolerance,
    timeScaleCorrection: correction === undefined ? '–' : formatSignedDuration(-correction),
  };
}

/** "−120 ms", "+1.2 s", "0 ms". */
export function formatSignedDuration(ms: number): string {
  const text = formatDuration(Math.abs(ms));
  if (text === '0 ms') return text;
  return `${ms < 0 ? '−' : '+'}${text}`;
}

/** The median of the mock's own CPU time per invocation, where the repetitions record it. */
export function medianMockCpuMs(cell: CompletedCell): number | undefined {
  const values = cell.reps.flatMap((rep) => (rep.mockCpuMs === undefined ? [] : [rep.mockCpuMs]));
  return values.length ? summarize(sortSamples(values)).median : undefined;
}

/** "60 workers and 512 MB": a cell named inside a sentence that already says "at". */
export function settingWords(cell: { concurrency: number; memoryMb: number }): string {
  return `${workers(cell.concurrency)} and ${cell.memoryMb} MB`;
}

/** How far to trust the simulator: its model error where the replay measured the job faithfully. */
export interface SimulatorTrust {
  /** The faithful cells it was checked at. */
  checks: ModelCheck[];
  withinTolerance: number;
  /** The check with the largest absolute model error. */
  worst: ModelCheck | undefined;
  /** Modelled cells whose replay was not faithful enough (fidelity above the limit) to check against. */
  unchecked: number;
  tolerance: number;
  /** The verdict in one or two sentences. */
  sentence: string;
}

export function simulatorTrust(results: Results, tolerance: number = MODEL_TOLERANCE): SimulatorTrust | undefined {
  const modelled = results.cells.filter(isCompleted).filter((c) => c.modelError !== undefined).length;
  if (modelled === 0) return undefined;
  const checks = checkModel(results.cells, tolerance);
  const withinTolerance = checks.filter((c) => c.withinTolerance).length;
  const worst = checks.length ? checks.reduce((a, b) => (Math.abs(b.modelError) > Math.abs(a.modelError) ? b : a)) : undefined;
  const unchecked = modelled - checks.length;
  const limit = `fidelity at most ${FIDELITY_LIMIT.toFixed(2)}`;
  const band = `±${formatPercent(tolerance)}`;
  let sentence: string;
  if (!worst) {
    sentence = `No cell was faithful enough (${limit}) to check the simulator against the replay, so its projected durations are unchecked.`;
  } else {
    const at = settingWords(worst);
    const checked = `Checked against the replay at ${checks.length} faithful ${checks.length === 1 ? 'cell' : 'cells'} (${limit})`;
    sentence =
      withinTolerance === checks.length
        ? `${checked}: ${checks.length === 1 ? 'within' : 'all within'} the ${band} tolerance; the worst model error is ${formatSignedPercent(worst.modelError)} at ${at}.`
        : `${checked}: ${checks.length - withinTolerance} outside the ${band} tolerance, the worst ${formatSignedPercent(worst.modelError)} at ${at}. Treat its projected durations with care.`;
    if (unchecked > 0) sentence += ` ${unchecked} more ${unchecked === 1 ? 'cell was' : 'cells were'} not faithful enough to check.`;
  }
  return { checks, withinTolerance, worst, unchecked, tolerance, sentence };
}
