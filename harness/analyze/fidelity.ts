import { singleThreadShare } from '../model/lambda.ts';
import { isCompleted, type Cell, type CompletedCell } from '../results/schema.ts';

/**
 * The cells whose fidelity ratio judges the harness. Below a full core the job's own CPU work
 * (parsing) really is slower on Lambda, so a ratio above the limit there is not the harness's
 * fault: the harness is judged where the event loop has a whole core, at 1769 MB and above, or
 * at the largest size swept when none is that large. None for a deployed function
 * (`deployedFunction`): its runtime, threads and TLS run in its own process, and what they add
 * over the ideal is the function's own cost, which it pays on Lambda too.
 */
export function judgedForFidelity(cells: readonly Cell[], options: { deployedFunction?: boolean } = {}): CompletedCell[] {
  if (options.deployedFunction) return [];
  const completed = cells.filter(isCompleted);
  const largest = Math.max(0, ...completed.map((cell) => cell.memoryMb));
  return completed.filter((cell) => singleThreadShare(cell.memoryMb) >= 1 || cell.memoryMb === largest);
}
