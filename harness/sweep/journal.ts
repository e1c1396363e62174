import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { cellSchema, type Cell, type Method } from '../results/schema.ts';
import { appendJsonLine } from '../results/io.ts';
import { cellKeyId } from '../results/cell-key.ts';
import { writeFileAtomic } from '../write-file.ts';
import { canonicalJson } from '../scenario/load.ts';

/**
 * The sweep's journal: JSON Lines beside the results file, one line per finished cell, appended
 * the moment the cell ends. A crash loses at most the cell in progress, and `--resume` continues
 * from it.
 */

/** The part of the results' method that changes what a cell measures (harness/sweep/sweep.ts, measuredHow). */
export type JournalMethod = Pick<Method, 'backend' | 'isolation' | 'cpuThrottle' | 'timeScale' | 'reps' | 'race' | 'warmupInvocations' | 'parallelCells'>;

/** What a journal's cells were measured on and how; a resume must match it. */
export interface JournalStart {
  scenarioHash: string;
  method: JournalMethod;
  startedAt: string;
}

interface JournalHeader extends JournalStart {
  type: 'header';
}

interface JournalCell {
  type: 'cell';
  cell: Cell;
}

export function journalPath(resultsFile: string): string {
  return resultsFile.replace(/\.json$/i, '') + '.jsonl';
}

export function startJournal(file: string, start: JournalStart): void {
  rewriteJournal(file, start, []);
}

/**
 * Writes a journal afresh with the cells it keeps. Appending to an old file would put the next
 * cell on the same line as a torn last line, and the journal could not be read again.
 */
export function rewriteJournal(file: string, start: JournalStart, cells: readonly Cell[]): void {
  const lines = [{ type: 'header', ...start } satisfies JournalHeader, ...cells.map((cell) => ({ type: 'cell', cell }) satisfies JournalCell)];
  writeFileAtomic(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
}

/** Whether `file` is a sweep journal: its first line is a journal header (of this version or an older one). */
export function isJournal(file: string): boolean {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(file, 'r');
    const buffer = Buffer.alloc(64 * 1024);
    const length = readSync(descriptor, buffer, 0, buffer.length, 0);
    const header = JSON.parse(buffer.subarray(0, length).toString('utf8').split('\n')[0]!) as Partial<JournalHeader>;
    return header.type === 'header' && typeof header.scenarioHash === 'string' && typeof header.startedAt === 'string';
  } catch {
    return false;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** Refuses, before a sweep starts, a file at the journal's path that no sweep wrote: it is neither replaced nor deleted. */
export function checkJournalTarget(file: string): void {
  if (existsSync(file) && !isJournal(file)) {
    throw new InputError({
      file,
      field: '--out',
      problem:
        "exists and is not a sweep journal; the sweep keeps its journal there (the results file's name with .jsonl) and leaves files it did not write alone",
      fix: 'choose another --out, or move the file away',
    });
  }
}

/** Removes a finished sweep's journal, and nothing else that might have come to lie at its path. */
export function removeJournal(file: string): void {
  if (isJournal(file)) rmSync(file, { force: true });
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
 * again); a journal of another scenario, or measured another way (reps, time scale, CPU throttle,
 * backend...), is refused, since its cells would describe another job or another method.
 */
export function readJournal(file: string, scenarioHash: string, method: JournalMethod): Journal | undefined {
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
  if (!header.method || typeof header.method !== 'object') {
    throw new InputError({
      file,
      field: 'method',
      problem: 'the journal does not say how its cells were measured (it was written by an older version of fanout-tuner)',
      fix: 'run the sweep without --resume to start afresh',
    });
  }
  const differences = methodDifferences(header.method, method);
  if (differences.length > 0) {
    throw new InputError({
      file,
      field: 'method',
      problem: `the journal's cells were measured another way: ${differences.join('; ')}`,
      fix: 'resume with the flags the sweep was started with, or run without --resume to start afresh',
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

const METHOD_DEFAULTS: Partial<JournalMethod> = { parallelCells: 1, isolation: 'none' };

/** Each field that differs, as "reps 3 in the journal, 1 now" (a race as its JSON; none when there was none). */
export function methodDifferences(journaled: Partial<JournalMethod>, now: JournalMethod): string[] {
  const keys = [...new Set([...Object.keys(journaled), ...Object.keys(now)])].sort() as (keyof JournalMethod)[];
  const show = (value: unknown) => (value === undefined ? 'none' : typeof value === 'object' ? canonicalJson(value) : String(value));
  return keys.flatMap((key) => {
    const then = show(journaled[key] ?? METHOD_DEFAULTS[key]);
    const current = show(now[key] ?? METHOD_DEFAULTS[key]);
    return then === current ? [] : [`${key} ${then} in the journal, ${current} now`];
  });
}
