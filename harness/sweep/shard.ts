import { InputError } from '../errors.ts';
import type { Architecture } from '../model/pricing.ts';
import type { CellKey } from '../results/cell-key.ts';
import type { Results } from '../results/schema.ts';

/**
 * Sharding splits one sweep's grid across N machines (a CI matrix): shard I of N measures every
 * N-th cell of the grid, starting with the I-th. Every shard computes the same split from the
 * same grid, so no coordination is needed, and `npm run merge` puts the parts back together.
 */

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard I/N`, 1 <= I <= N. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || !(count >= 1) || !(index >= 1 && index <= count)) {
    throw new InputError({
      field: '--shard',
      problem: match ? `"${text}" is not a shard: I must be from 1 to N` : `"${text}" is not of the form I/N`,
      fix: 'pass --shard I/N with 1 <= I <= N, such as --shard 1/3 for the first of three shards',
    });
  }
  return { index, count };
}

/**
 * The cells shard I of N measures, in the grid's order.
 *
 * Without a weight: positions I-1, I-1+N, I-1+2N, ... of the grid in its canonical order.
 * Round-robin rather than contiguous blocks, because neighbouring cells cost alike (a low
 * concurrency is slow at every memory size) and blocks would hand one shard all the slow ones.
 * Round-robin still lines up with the grid when the row length is a multiple of N (9
 * concurrencies on 3 shards: shard 1 gets concurrency 1 at every memory size); give a weight, an
 * estimate of each cell's cost such as `1 / concurrency`, and the cells are dealt heaviest first
 * to the least-loaded shard instead (longest processing time first), which evens the shards out.
 */
export function selectShard<T>(cells: readonly T[], shard: Shard, options: { weight?: (cell: T) => number } = {}): T[] {
  if (!(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count)) {
    throw new RangeError(`not a shard: ${shard.index}/${shard.count}`);
  }
  const { weight } = options;
  if (!weight) return cells.filter((_, position) => position % shard.count === shard.index - 1);
  const weights = cells.map((cell) => {
    const w = weight(cell);
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`a cell's weight must be a finite non-negative number, got ${w}`);
    return w;
  });
  const heaviestFirst = cells.map((_, position) => position).sort((a, b) => weights[b]! - weights[a]! || a - b);
  const loads = new Array<number>(shard.count).fill(0);
  const owner = new Array<number>(cells.length);
  for (const position of heaviestFirst) {
    const lightest = loads.indexOf(Math.min(...loads));
    owner[position] = lightest;
    loads[lightest]! += weights[position]!;
  }
  return cells.filter((_, position) => owner[position] === shard.index - 1);
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * The grid's cells in canonical order: memory sizes in the order given, and for each the
 * concurrencies in the order given. Shards are cut from this order and merged results follow it.
 * A value listed twice is measured once.
 */
export function gridCells(grid: { concurrency: readonly number[]; memoryMb: readonly number[]; architecture: Architecture }): CellKey[] {
  const cells: CellKey[] = [];
  for (const memoryMb of new Set(grid.memoryMb)) {
    for (const concurrency of new Set(grid.concurrency)) cells.push({ concurrency, memoryMb, architecture: grid.architecture });
  }
  return cells;
}

/** The grid a results file was measured on: its `grid` when flags overrode the scenario, else the scenario's. */
export function gridOfResults(results: Results): { concurrency: number[]; memoryMb: number[]; architecture: Architecture } {
  const grid = results.grid ?? results.scenario.sweep;
  return { concurrency: grid.concurrency, memoryMb: grid.memoryMb, architecture: results.scenario.lambda.architecture };
}
