import { FIDELITY_LIMIT, isCompleted, type Cell, type CompletedCell } from '../results/schema.ts';
import { judgedForFidelity } from './fidelity.ts';

/** The simulator and the replay must agree this closely where the replay is faithful. */
export const MODEL_TOLERANCE = 0.05;

export interface ModelCheck {
  concurrency: number;
  memoryMb: number;
  fidelityRatio: number;
  /** simulatedMs / measured median - 1. */
  modelError: number;
  withinTolerance: boolean;
}

/**
 * Pure: the validation of the simulator against the replay. Every completed cell that carries a
 * model error and whose fidelity ratio is at most 1.10 (where the replay can be trusted to
 * measure the job, not the harness) is checked against the tolerance.
 */
export function checkModel(cells: readonly Cell[], tolerance: number = MODEL_TOLERANCE): ModelCheck[] {
  return cells
    .filter(isCompleted)
    .filter((cell) => cell.modelError !== undefined && cell.fidelityRatio <= FIDELITY_LIMIT)
    .map((cell) => ({
      concurrency: cell.concurrency,
      memoryMb: cell.memoryMb,
      fidelityRatio: cell.fidelityRatio,
      modelError: cell.modelError!,
      withinTolerance: Math.abs(cell.modelError!) <= tolerance,
    }));
}

/** One warning naming the cells where simulator and replay disagree, with the worst of them. */
export function modelWarnings(cells: readonly Cell[], tolerance: number = MODEL_TOLERANCE): string[] {
  const off = checkModel(cells, tolerance).filter((check) => !check.withinTolerance);
  if (off.length === 0) return [];
  const worst = off.reduce((a, b) => (Math.abs(b.modelError) > Math.abs(a.modelError) ? b : a));
  const percent = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  // A time-scaled replay keeps its CPU S times busier than production; the simulator follows
  // such a crowded event loop less closely, and a lower time scale is the remedy.
  const scaled = cells.some((cell) => cell.state === 'completed' && cell.timeScaleCorrectionMs !== undefined);
  return [
    `Model: at ${off.length} faithful cell(s) the simulator and the replay differ by more than ${tolerance * 100}% (worst ${percent(worst.modelError)} at concurrency ${worst.concurrency}, ${worst.memoryMb} MB): treat --simulate answers${scaled ? ', the time-scale corrections' : ''} and projectedMs for this scenario with care, and rerun on a quieter machine or with more --reps${scaled ? ' or a lower --time-scale' : ''}.`,
  ];
}

/**
 * The cells to measure again before the sweep warns about the harness or the simulator: those with
 * fewer than `minReps` repetitions that are off the simulator by more than the tolerance, or off
 * their ideal by more than the fidelity limit where the harness is judged. One
 * time-scaled repetition is thrown off by a few percent now and then (a busy moment of the
 * machine, a GC pause), and a median of three is not: a cell off on its screening repetition alone
 * is measured again, and the warning stays only if the disagreement does. The furthest off
 * come first, for a budget that allows only some.
 */
export function cellsToMeasureAgain(
  cells: readonly Cell[],
  minReps: number,
  options: { deployedFunction?: boolean; tolerance?: number } = {},
): CompletedCell[] {
  const tolerance = options.tolerance ?? MODEL_TOLERANCE;
  const judged = new Set(judgedForFidelity(cells, options));
  // How far past its limit the cell is: its fidelity where the harness is judged, or its model
  // error, whatever its fidelity. A hiccup can push one repetition past the fidelity limit too,
  // which would hide it from the model check: a cell off the simulator is measured again anyway.
  const excess = (cell: CompletedCell): number =>
    Math.max(judged.has(cell) ? cell.fidelityRatio - FIDELITY_LIMIT : 0, cell.modelError === undefined ? 0 : Math.abs(cell.modelError) - tolerance);
  return cells
    .filter(isCompleted)
    .filter((cell) => cell.reps.length < minReps && excess(cell) > 0)
    .sort((a, b) => excess(b) - excess(a));
}
