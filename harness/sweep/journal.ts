import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { cellSchema, type Cell } from '../results/schema.ts';
import { appendJsonLine } from '../results/io.ts';
import { cellKeyId } from '../results/cell-key.ts';

/**
 * The sweep's journal: JSON Lines beside the results file, one line per finished cell, appended
 * the moment the cell ends. A crash loses at most the cell in progress, and `--resume` continues
 * from it.
 */

interface JournalHeader {
  type: 'header';
  scenarioHash: string;
  startedAt: string;
}

interface JournalCell {
  type: 'cell';
  cell: Cell;
}

export function journalPath(resultsFile: string): string {
  return resultsFile.replace(/\.json$/i, '') + '.jsonl';
}

export function startJournal(file: string, scenarioHash: string, startedAt: string): void {
  rmSync(file, { force: true });
  appendJsonLine(file, { type: 'header', scenarioHash, startedAt } satisfies JournalHeader);
}

/**
 * Writes a resumed journal afresh with the cells it keeps. Appending to the old file would put the
 * next cell on the same line as a torn last line, and the journal could not be read again.
 */
export function rewriteJournal(file: string, scenarioHash: string, startedAt: string, cells: readonly Cell[]): void {
  const lines = [{ type: 'header', scenarioHash, startedAt } satisfies JournalHeader, ...cells.map((cell) => ({ type: 'cell', cell }) satisfies JournalCell)];
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  renameSync(temporary, file);
}

export function appendCell(file: string, cell: Cell): void {
  appendJsonLine(file, { type: 'cell', cell } satisfies JournalCell);
}

export interface Journal {
  startedAt: string;
  cells: Cell[];
}

/**
 * Reads a journal to resume from. A last line cut short by a crash is dropped (that cell runs
 * again); a journal of another scenario is refused, since its cells would describe another job.
 */
export function readJournal(file: string, scenarioHash: string): Journal | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const entries: unknown[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      entries.push(JSON.parse(line));
    } catch {
      const isLast = lines.slice(i + 1).every((rest) => !rest.trim());
      if (!isLast) {
        throw new InputError({ file, field: `line ${i + 1}`, problem: 'is not valid JSON', fix: 'delete the journal to start the sweep afresh' });
      }
    }
  });
  const header = entries[0] as Partial<JournalHeader> | undefined;
  if (!header || header.type !== 'header' || typeof header.scenarioHash !== 'string' || typeof header.startedAt !== 'string') {
    throw new InputError({ file, field: 'line 1', problem: 'is not a sweep journal header', fix: 'delete the journal to start the sweep afresh' });
  }
  if (header.scenarioHash !== scenarioHash) {
    throw new InputError({
      file,
      field: 'scenarioHash',
      problem: `the journal belongs to another version of the scenario (${header.scenarioHash.slice(0, 19)}...)`,
      fix: 'run the sweep without --resume to start afresh, or restore the scenario it was started with',
    });
  }
  const cells = new Map<string, Cell>();
  entries.slice(1).forEach((entry, i) => {
    const parsed = cellSchema.safeParse((entry as Partial<JournalCell>).cell);
    if (!parsed.success) {
      throw new InputError({ file, field: `line ${i + 2}`, problem: 'is not a cell record', fix: 'delete the journal to start the sweep afresh' });
    }
    const cell = parsed.data;
    cells.set(cellKeyId(cell), cell);
  });
  return { startedAt: header.startedAt, cells: [...cells.values()] };
}
