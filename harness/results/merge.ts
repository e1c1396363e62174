import { InputError } from '../errors.ts';
import { formatShard, gridCells, gridOfResults } from '../sweep/shard.ts';
import { cellKeyId, describeCell } from './cell-key.ts';
import type { Cell, Results } from './schema.ts';

/**
 * Joins the results of the shards of one sweep (`--shard I/N` on several machines) into one
 * results file, as if the sweep had run in one piece. Pure. It refuses rather than guesses: parts
 * of different scenarios or grids, a cell measured twice, and a grid with holes are all errors,
 * because a silently incomplete or doubled grid would make the comparison that follows wrong.
 */

export interface ResultsPart {
  file: string;
  results: Results;
}

const FIX_MISSING = 'add the results of every shard (`npm run sweep -- --shard I/N --out FILE` for each I from 1 to N)';

export function mergeResults(parts: readonly ResultsPart[]): Results {
  const [first] = parts;
  if (!first) {
    throw new InputError({ problem: 'no results files to merge', fix: 'pass the results file of every shard' });
  }
  const grid = gridOfResults(first.results);
  for (const part of parts.slice(1)) {
    if (part.results.scenarioHash !== first.results.scenarioHash) {
      throw new InputError({
        file: part.file,
        field: 'scenarioHash',
        problem:
          `ran scenario "${part.results.scenario.name}" (${part.results.scenarioHash}) but ${first.file} ran ` +
          `"${first.results.scenario.name}" (${first.results.scenarioHash}); shards must come from the same scenario`,
        fix: 'merge only the shards of one sweep',
      });
    }
    if (JSON.stringify(gridOfResults(part.results)) !== JSON.stringify(grid)) {
      throw new InputError({
        file: part.file,
        field: 'grid',
        problem: `was swept over a different grid than ${first.file} (${describeGrid(gridOfResults(part.results))} vs ${describeGrid(grid)})`,
        fix: 'run every shard with the same --concurrency and --memory',
      });
    }
  }
  checkShardFields(parts);

  const expected = gridCells(grid);
  const expectedIds = new Set(expected.map(cellKeyId));
  const found = new Map<string, { cell: Cell; file: string }>();
  for (const part of parts) {
    part.results.cells.forEach((cell, i) => {
      const id = cellKeyId(cell);
      const earlier = found.get(id);
      if (earlier) {
        throw new InputError({
          file: part.file,
          field: `cells[${i}]`,
          problem: `the cell ${describeCell(cell)} is also in ${earlier.file}; shards must not overlap`,
          fix: 'pass each shard once, all cut with the same N (`--shard I/N`)',
        });
      }
      if (!expectedIds.has(id)) {
        throw new InputError({
          file: part.file,
          field: `cells[${i}]`,
          problem: `the cell ${describeCell(cell)} is not in the grid (${describeGrid(grid)})`,
          fix: 'merge only the shards of one sweep',
        });
      }
      found.set(id, { cell, file: part.file });
    });
  }
  const missing = expected.filter((key) => !found.has(cellKeyId(key)));
  if (missing.length) {
    const listed = missing.slice(0, 5).map(describeCell).join('; ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    throw new InputError({
      file: parts.map((p) => p.file).join(', '),
      field: 'cells',
      problem: `${missing.length} of ${expected.length} cells of the grid are missing (${listed}${more})${missingShardsNote(parts)}`,
      fix: FIX_MISSING,
    });
  }

  const finishedAt = parts.map((p) => p.results.finishedAt);
  const merged: Results = {
    schemaVersion: first.results.schemaVersion,
    tool: first.results.tool,
    env: first.results.env,
    scenario: first.results.scenario,
    scenarioHash: first.results.scenarioHash,
    method: first.results.method,
    startedAt: parts.map((p) => p.results.startedAt).reduce((a, b) => (b < a ? b : a)),
    cells: expected.map((key) => found.get(cellKeyId(key))!.cell),
    warnings: [...new Set([...parts.flatMap((p) => p.results.warnings), ...mergeWarnings(parts)])],
    // A recommendation picks among all cells; each shard's saw only its own. Recomputed downstream.
    recommendation: null,
  };
  if (finishedAt.every((t): t is string => t !== undefined)) merged.finishedAt = finishedAt.reduce((a, b) => (b > a ? b : a));
  if (first.results.grid) merged.grid = first.results.grid;
  return merged;
}

function checkShardFields(parts: readonly ResultsPart[]): void {
  const sharded = parts.filter((p) => p.results.shard);
  const counts = new Set(sharded.map((p) => p.results.shard!.count));
  if (counts.size > 1) {
    throw new InputError({
      file: sharded.map((p) => p.file).join(', '),
      field: 'shard',
      problem: `the shards were cut with different N (${sharded.map((p) => `${p.file}: ${formatShard(p.results.shard!)}`).join(', ')})`,
      fix: 'merge shards of one sweep, all run with the same --shard I/N count',
    });
  }
  const byIndex = new Map<number, string>();
  for (const part of sharded) {
    const shard = part.results.shard!;
    const earlier = byIndex.get(shard.index);
    if (earlier !== undefined) {
      throw new InputError({
        file: part.file,
        field: 'shard',
        problem: `is shard ${formatShard(shard)}, and so is ${earlier}; shards must not overlap`,
        fix: 'pass each shard once',
      });
    }
    byIndex.set(shard.index, part.file);
  }
}

function missingShardsNote(parts: readonly ResultsPart[]): string {
  const shards = parts.map((p) => p.results.shard).filter((s) => s !== undefined);
  const count = shards[0]?.count;
  if (count === undefined) return '';
  const present = new Set(shards.map((s) => s.index));
  const absent = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !present.has(i));
  return absent.length ? `; missing shard${absent.length === 1 ? '' : 's'} ${absent.map((i) => `${i}/${count}`).join(', ')}` : '';
}

/** Things worth knowing about the merged file that no single shard could see. */
function mergeWarnings(parts: readonly ResultsPart[]): string[] {
  const warnings: string[] = [];
  const commits = [...new Set(parts.map((p) => p.results.env.commit))];
  if (commits.length > 1) warnings.push(`Merged shards were measured on different commits (${commits.join(', ')}).`);
  const methods = [...new Set(parts.map((p) => JSON.stringify(p.results.method)))];
  if (methods.length > 1) {
    warnings.push(`Merged shards were measured with different methods; the first file's (${parts[0]!.file}) is reported.`);
  }
  const machines = [...new Set(parts.map((p) => `${p.results.env.platform}, ${p.results.env.cpus} CPUs, Node.js ${p.results.env.node}`))];
  if (machines.length > 1) warnings.push(`Merged shards ran on different machines (${machines.join('; ')}); cells are comparable only within a shard.`);
  return warnings;
}

function describeGrid(grid: { concurrency: readonly number[]; memoryMb: readonly number[]; architecture: string }): string {
  return `concurrency ${grid.concurrency.join(',')} x memory ${grid.memoryMb.join(',')} MB, ${grid.architecture}`;
}
