import type { Cell } from './schema.ts';

/** What identifies a cell of the grid: the settings it was measured at. */
export interface CellKey {
  concurrency: number;
  memoryMb: number;
  architecture: Cell['architecture'];
}

/** A string that is equal for two cells exactly when their keys are. */
export function cellKeyId(key: CellKey): string {
  return `${key.concurrency}|${key.memoryMb}|${key.architecture}`;
}

export function describeCell(key: CellKey): string {
  return `concurrency ${key.concurrency}, ${key.memoryMb} MB, ${key.architecture}`;
}
