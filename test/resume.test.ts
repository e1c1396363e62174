import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResults } from '../harness/results/io.ts';
import type { Cell } from '../harness/results/schema.ts';
import {
  appendCell,
  isJournal,
  journalPath,
  methodDifferences,
  readJournal,
  rewriteJournal,
  startJournal,
  type JournalMethod,
} from '../harness/sweep/journal.ts';
import { lockPath } from '../harness/sweep/lock.ts';
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

    // The same scenario measured another way (more repetitions, the model's CPU throttle): refused, naming both, untouched.
    const otherMethod = spawnSync(process.execPath, sweepArgs(SCENARIO, out, '--resume', '--reps', '2', '--cpu-throttle', 'model'), {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(otherMethod.status).toBe(2);
    expect(hasStackTrace(otherMethod.stderr)).toBe(false);
    expect(otherMethod.stderr).toBe(
      `error: ${journal}: method: the journal's cells were measured another way: cpuThrottle none in the journal, model now; reps 1 in the journal, 2 now. Fix: resume with the flags the sweep was started with, or run without --resume to start afresh\n`,
    );
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
    // The lock of the killed sweep was stale (its pid gone): the resume took it over, and released it.
    expect(existsSync(lockPath(out))).toBe(false);
  });
});

/** Starts a sweep in the background and waits until its journal exists. */
async function startSweep(out: string, ...extra: string[]) {
  const sweep = spawn(process.execPath, sweepArgs(SCENARIO, out, ...extra), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sweep.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => sweep.on('exit', (code) => resolve(code)));
  while (!existsSync(journalPath(out))) {
    if (sweep.exitCode !== null) throw new Error(`the sweep ended (code ${sweep.exitCode}) before its journal appeared: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { sweep, exited, stderr: () => stderr };
}

describe('two sweeps on one --out', () => {
  it('the second is refused at once, naming the first, which finishes undisturbed and releases its lock', async () => {
    const out = join(scratchDir('lock'), 'results.json');
    const first = await startSweep(out, '--reps', '2');
    expect(JSON.parse(readFileSync(lockPath(out), 'utf8'))).toMatchObject({ writtenBy: 'fanout-tuner', pid: first.sweep.pid, host: hostname() });
    const began = Date.now();
    const second = spawnSync(process.execPath, sweepArgs(SCENARIO, out), { encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(2);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(second.stderr).toMatch(
      new RegExp(
        `^error: ${out}: --out: another sweep is writing to it \\(pid ${first.sweep.pid}, started .*; lock ${lockPath(out)}\\)\\. Fix: wait for that sweep to end, or choose another --out\n$`,
      ),
    );
    expect(await first.exited).toBe(0);
    expect(loadResults(out).cells.map((cell) => [cell.concurrency, cell.state])).toEqual(GRID.map((c) => [c, 'completed']));
    expect(readdirSync(join(out, '..')).sort()).toEqual(['results.json']);
  });

  it.skipIf(process.platform !== 'linux')('a sweep ended by SIGTERM releases its lock; a lock whose sweep has ended is taken over', async () => {
    const dir = scratchDir('lock');
    const out = join(dir, 'results.json');
    const stopped = await startSweep(out);
    expect(existsSync(lockPath(out))).toBe(true);
    stopped.sweep.kill('SIGTERM');
    await stopped.exited;
    expect(existsSync(lockPath(out))).toBe(false);

    // Locks left by sweeps killed with SIGKILL: one whose pid no longer runs, and one whose pid is
    // another process's now (as in a new container, where the sweep gets the same small pid).
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    const stale = [
      { pid: spawnSync('true').pid, startTicks: '1' },
      { pid: process.pid, startTicks: '1' },
    ];
    for (const { pid, startTicks } of stale) {
      writeFileSync(
        lockPath(out),
        JSON.stringify({ writtenBy: 'fanout-tuner', pid, startTicks, pidNamespace, host: hostname(), startedAt: '2026-12-01T00:00:00.000Z' }),
      );
      const run = spawnSync(process.execPath, [...sweepArgs(SCENARIO, out), '--concurrency', '1'], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).not.toMatch(/error|unexpected/);
      expect(run.status).toBe(0);
      expect(existsSync(lockPath(out))).toBe(false);
    }
  });

  it("a file at the lock's or the journal's path that the sweep did not write is refused and left alone", () => {
    const dir = scratchDir('lock');
    const out = join(dir, 'events.json');
    const events = '{"event":"signup","user":1}\n{"event":"login","user":1}\n';
    writeFileSync(journalPath(out), events);
    const refused = spawnSync(process.execPath, [...sweepArgs(SCENARIO, out), '--concurrency', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      `error: ${journalPath(out)}: --out: exists and is not a sweep journal; the sweep keeps its journal there (the results file's name with .jsonl) and leaves files it did not write alone. Fix: choose another --out, or move the file away\n`,
    );
    expect(readFileSync(journalPath(out), 'utf8')).toBe(events);
    expect(readdirSync(dir).sort()).toEqual(['events.jsonl']);

    const notes = join(dir, 'notes.json');
    writeFileSync(lockPath(notes), 'my notes\n');
    const lockRefused = spawnSync(process.execPath, [...sweepArgs(SCENARIO, notes), '--concurrency', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(lockRefused.status).toBe(2);
    expect(lockRefused.stderr).toMatch(/notes\.json\.lock: --out: exists and is not a lock of fanout-tuner/);
    expect(readFileSync(lockPath(notes), 'utf8')).toBe('my notes\n');

    // Results onto a file of someone else's: refused, and left as it was.
    const data = join(dir, 'data.json');
    writeFileSync(data, '{"rows":[1,2,3]}\n');
    const overwrite = spawnSync(process.execPath, [...sweepArgs(SCENARIO, data), '--concurrency', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(overwrite.status).toBe(2);
    expect(overwrite.stderr).toBe(
      `error: ${data}: --out: exists and is not a fanout-tuner results file, so it is left as it is. Fix: choose another --out, or move the file away\n`,
    );
    expect(readFileSync(data, 'utf8')).toBe('{"rows":[1,2,3]}\n');

    // Refused before the sweep, not after it: an --out that is a directory, a report onto a chart of someone else's.
    const folder = spawnSync(process.execPath, [...sweepArgs(SCENARIO, dir), '--concurrency', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(folder.status).toBe(2);
    expect(folder.stderr).toBe(`error: ${dir}: --out: is a directory. Fix: name the results file to write, such as ${join(dir, 'results.json')}\n`);
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'cost.svg'), '<svg>mine</svg>');
    const began = Date.now();
    const report = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/sweep.ts',
        SCENARIO,
        ...ARGS.filter((arg) => arg !== '--no-report'),
        '--out',
        join(dir, 'r.json'),
        '--report',
        join(dir, 'site.html'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(report.status).toBe(2);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(report.stderr).toMatch(/site\/cost\.svg: --report: exists and was not written by a fanout-tuner report/);
    expect(readdirSync(dir).sort()).toEqual(['data.json', 'events.jsonl', 'notes.json.lock', 'site']);
    expect(readFileSync(join(dir, 'site', 'cost.svg'), 'utf8')).toBe('<svg>mine</svg>');
  });
});

describe('the journal', () => {
  const method: JournalMethod = { backend: 'msw', isolation: 'none', cpuThrottle: 'none', timeScale: 1, reps: 1, warmupInvocations: 1 };
  const start = { scenarioHash: 'sha256:abc', method, startedAt: '2026-11-28T00:00:00.000Z' };

  it('stays readable after a resume from a torn last line: the resume rewrites it before appending', () => {
    const file = join(scratchDir('journal'), 'r.jsonl');
    const [first, second, third] = [1, 2, 4].map((concurrency): Cell => completedCell(concurrency, 1769, 1000 / concurrency));
    startJournal(file, start);
    appendCell(file, first!);
    appendCell(file, second!);
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd().slice(0, -40));

    const journal = readJournal(file, 'sha256:abc', method)!;
    expect(journal.cells).toEqual([first]);
    rewriteJournal(file, start, journal.cells);
    appendCell(file, third!);
    expect(readJournal(file, 'sha256:abc', method)).toEqual({ startedAt: '2026-11-28T00:00:00.000Z', cells: [first, third] });
    expect(isJournal(file)).toBe(true);
  });

  it('records the method in its header and names every field a resume would change', () => {
    const file = join(scratchDir('journal'), 'r.jsonl');
    startJournal(file, start);
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!)).toEqual({ type: 'header', ...start });
    expect(methodDifferences(method, { ...method, parallelCells: 1 })).toEqual([]);
    expect(methodDifferences(method, { ...method, backend: 'net', isolation: 'namespace', timeScale: 16, parallelCells: 2 })).toEqual([
      'backend msw in the journal, net now',
      'isolation none in the journal, namespace now',
      'parallelCells 1 in the journal, 2 now',
      'timeScale 1 in the journal, 16 now',
    ]);
    expect(methodDifferences(method, { ...method, race: { budgetS: 300, equivalence: 0.02 } })).toEqual([
      'race none in the journal, {"budgetS":300,"equivalence":0.02} now',
    ]);
    expect(() => readJournal(file, 'sha256:abc', { ...method, timeScale: 16 })).toThrow(
      `${file}: method: the journal's cells were measured another way: timeScale 1 in the journal, 16 now`,
    );
    // A journal of an older version says nothing of its method: it cannot be resumed.
    writeFileSync(file, `${JSON.stringify({ type: 'header', scenarioHash: 'sha256:abc', startedAt: start.startedAt })}\n`);
    expect(isJournal(file)).toBe(true);
    expect(() => readJournal(file, 'sha256:abc', method)).toThrow(/method: the journal does not say how its cells were measured/);
  });

  it('is told apart from other JSON Lines files', () => {
    const file = join(scratchDir('journal'), 'events.jsonl');
    writeFileSync(file, '{"type":"header"}\n');
    expect(isJournal(file)).toBe(false);
    expect(isJournal(join(file, '..', 'missing.jsonl'))).toBe(false);
  });
});
