import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResults } from '../harness/results/io.ts';
import type { Cell } from '../harness/results/schema.ts';
import { appendCell, journalPath, readJournal, rewriteJournal, startJournal } from '../harness/sweep/journal.ts';
import { completedCell } from './fixtures/results.ts';
import { hasStackTrace } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

const SCENARIO = 'scenarios/small-fast.json';
const GRID = [1, 2, 4, 8, 16];
const ARGS = ['--concurrency', GRID.join(','), '--reps', '1', '--no-report', '--cpu-throttle', 'none'];

function sweepArgs(scenario: string, out: string, ...extra: string[]): string[] {
  return ['--import', 'tsx', 'scripts/sweep.ts', scenario, ...ARGS, '--out', out, ...extra];
}

function journalCells(file: string): Cell[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"type":"cell"'))
    .flatMap((line) => {
      try {
        return [(JSON.parse(line) as { cell: Cell }).cell];
      } catch {
        return [];
      }
    });
}

/** Starts a sweep and SIGKILLs it, cell process included, once `cells` cells are in its journal. */
async function killAfter(out: string, cells: number): Promise<void> {
  const journal = journalPath(out);
  // Its own process group, so the kill takes the cell process too, as a container's end would.
  const sweep = spawn(process.execPath, sweepArgs(SCENARIO, out), { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => sweep.on('exit', () => resolve()));
  try {
    while (!(existsSync(journal) && journalCells(journal).length >= cells)) {
      if (sweep.exitCode !== null) throw new Error(`the sweep ended (code ${sweep.exitCode}) before ${cells} cells were journaled`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    process.kill(-sweep.pid!, 'SIGKILL');
    await exited;
  }
}

describe('a sweep killed mid-way', () => {
  it('resumes to the whole grid: finished cells kept as journaled, the rest run, none twice; a changed scenario is refused', async () => {
    const dir = scratchDir('resume');
    const out = join(dir, 'results.json');
    const journal = journalPath(out);
    await killAfter(out, 2);

    const journaled = journalCells(journal);
    expect(journaled.length).toBeGreaterThanOrEqual(2);
    expect(journaled.length).toBeLessThan(GRID.length);
    // A torn write: the last cell line cut in half, without its newline.
    const text = readFileSync(journal, 'utf8');
    const lastLine = text.trimEnd().split('\n').at(-1)!;
    writeFileSync(journal, text.trimEnd().slice(0, -Math.floor(lastLine.length / 2)));
    const kept = journaled.slice(0, -1);

    // The same journal against another version of the scenario (another seed): refused, untouched.
    const changed = join(dir, 'small-fast-changed.json');
    writeFileSync(changed, JSON.stringify({ ...JSON.parse(readFileSync(SCENARIO, 'utf8')), $schema: undefined, seed: 8 }));
    const tornJournal = readFileSync(journal, 'utf8');
    const refused = spawnSync(process.execPath, sweepArgs(changed, out, '--resume'), { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(hasStackTrace(refused.stderr)).toBe(false);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`error: ${journal}: scenarioHash: the journal belongs to another version of the scenario`);
    expect(readFileSync(journal, 'utf8')).toBe(tornJournal);

    const resumed = spawnSync(process.execPath, sweepArgs(SCENARIO, out, '--resume'), { encoding: 'utf8', timeout: 120_000 });
    expect(resumed.stderr).not.toMatch(/unexpected failure/);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr.match(/from the journal/g)).toHaveLength(kept.length);

    const cells = loadResults(out).cells;
    expect(cells.map((cell) => cell.concurrency)).toEqual(GRID);
    expect(cells.every((cell) => cell.state === 'completed')).toBe(true);
    // Kept cells are the journal's records, value for value; the others were measured now (cells
    // run longest first and side by side, so the journal is not in the grid's order).
    const byConcurrency = new Map(cells.map((cell) => [cell.concurrency, cell]));
    for (const cell of kept) expect(byConcurrency.get(cell.concurrency)).toEqual(cell);
    const torn = journaled.at(-1)!;
    expect(byConcurrency.get(torn.concurrency)).not.toEqual(torn);
    expect(existsSync(journal)).toBe(false);
  });
});

describe('the journal', () => {
  it('stays readable after a resume from a torn last line: the resume rewrites it before appending', () => {
    const file = join(scratchDir('journal'), 'r.jsonl');
    const [first, second, third] = [1, 2, 4].map((concurrency): Cell => completedCell(concurrency, 1769, 1000 / concurrency));
    startJournal(file, 'sha256:abc', '2026-11-28T00:00:00.000Z');
    appendCell(file, first!);
    appendCell(file, second!);
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd().slice(0, -40));

    const journal = readJournal(file, 'sha256:abc')!;
    expect(journal.cells).toEqual([first]);
    rewriteJournal(file, 'sha256:abc', journal.startedAt, journal.cells);
    appendCell(file, third!);
    expect(readJournal(file, 'sha256:abc')).toEqual({ startedAt: '2026-11-28T00:00:00.000Z', cells: [first, third] });
  });
});
