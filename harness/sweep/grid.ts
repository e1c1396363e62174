import type { Architecture } from '../model/pricing.ts';
import type { CellKey } from './cell.ts';

/** The cells of a sweep in their canonical order: memory sizes ascending, then concurrency. */
export function gridCells(concurrency: readonly number[], memoryMb: readonly number[], architecture: Architecture): CellKey[] {
  const unique = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);
  return unique(memoryMb).flatMap((memory) =>
    unique(concurrency).map((c) => ({ concurrency: c, memoryMb: memory, architecture })),
  );
}

export function cellId(key: CellKey): string {
  return `${key.concurrency}x${key.memoryMb}/${key.architecture}`;
}
