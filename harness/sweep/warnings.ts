import { judgedForFidelity } from '../analyze/fidelity.ts';
import { describeCell } from '../results/cell-key.ts';
import { isCompleted, type Cell, type CompletedCell } from '../results/schema.ts';
import { FIDELITY_LIMIT } from './build-cell.ts';
import { LAMBDA_FILE_DESCRIPTORS } from '../model/lambda.ts';

/** The sweep's warnings about its own cells: fidelity, failures and real-time confirmations. */

/** One warning for the cells, among those that judge the harness, where it fell behind the ideal. */
export function fidelityWarnings(cells: readonly Cell[], options: { deployedFunction?: boolean } = {}): string[] {
  const slow = judgedForFidelity(cells, options).filter((cell) => cell.fidelityRatio > FIDELITY_LIMIT);
  if (slow.length === 0) return [];
  const first = slow.reduce((a, b) => (b.concurrency < a.concurrency ? b : a));
  const worst = slow.reduce((a, b) => (b.fidelityRatio > a.fidelityRatio ? b : a));
  return [
    `Fidelity: from concurrency ${first.concurrency} (${first.memoryMb} MB) the replay took ${first.fidelityRatio.toFixed(2)}x its ideal makespan (limit ${FIDELITY_LIMIT}); the harness itself became the bottleneck there. Worst: ${worst.fidelityRatio.toFixed(2)}x at concurrency ${worst.concurrency}, ${worst.memoryMb} MB. Durations of ${slow.length} cell(s) overstate what the job would take.`,
  ];
}

/**
 * One warning for the cells whose job's process ran out of file descriptors: those attempts failed
 * for Lambda's quota, which holds there too, not for anything the hosts did (they count as resets).
 */
export function fileDescriptorWarnings(cells: readonly Cell[]): string[] {
  const short = cells
    .filter(isCompleted)
    .map((cell) => ({ cell, failures: cell.reps.reduce((sum, rep) => sum + (rep.descriptorFailures ?? 0), 0) }))
    .filter(({ failures }) => failures > 0)
    .sort((a, b) => a.cell.concurrency - b.cell.concurrency || a.cell.memoryMb - b.cell.memoryMb);
  if (short.length === 0) return [];
  const each = short.map(({ cell, failures }) => `${describeCell(cell)}: ${failures} attempt(s)`).join('; ');
  return [
    `File descriptors: the job's process held as many open files and sockets as Lambda allows (${LAMBDA_FILE_DESCRIPTORS}), and its next connections could not open (EMFILE, counted as resets): ${each}. On Lambda these concurrencies fail alike; keep the concurrency (and the connections each worker keeps open) below the quota.`,
  ];
}

export function failureWarnings(cells: readonly Cell[]): string[] {
  return cells.filter((cell) => cell.state !== 'completed').map((cell) => `${describeCell(cell)} ended as ${cell.state}: ${'error' in cell ? cell.error : ''}`);
}

/**
 * The finalists' real-time runs against their time-scaled medians, pooled: the finalists are the
 * winner and settings equivalent to it, so each confirmation is another look at the same
 * question, and one real-time repetition alone varies by several percent. A warning when their
 * mean deviation is beyond 5%.
 */
export function confirmationWarnings(cells: readonly Cell[]): string[] {
  const confirmed = cells.filter(
    (cell): cell is CompletedCell & { confirmed: NonNullable<CompletedCell['confirmed']> } => isCompleted(cell) && cell.confirmed !== undefined,
  );
  if (confirmed.length === 0) return [];
  const pooled = confirmed.reduce((sum, cell) => sum + cell.confirmed.deviation, 0) / confirmed.length;
  if (Math.abs(pooled) <= CONFIRMATION_TOLERANCE) return [];
  const signed = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const each = confirmed.map(
    (cell) =>
      `${describeCell(cell)}: ${(cell.confirmed.durationMs / 1000).toFixed(2)} s against ${(cell.durationMs.median / 1000).toFixed(2)} s (${signed(cell.confirmed.deviation)})`,
  );
  return [
    `Confirmation: real-time runs of the finalists, throttled as Lambda throttles, took ${signed(pooled)} against their time-scaled medians (${each.join('; ')}): time scaling distorts this job here; sweep the contenders again with --time-scale 1 (and --concurrency/--memory narrowed to them) for durations to deploy on.`,
  ];
}

/** How far a confirmation may stray from the raced median before the sweep warns. */
export const CONFIRMATION_TOLERANCE = 0.05;
