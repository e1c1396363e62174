import { describe, expect, it } from 'vitest';
import type { CellKey } from '../harness/results/cell-key.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';
import {
  cellsShareProcess,
  coresPerCell,
  defaultParallelCells,
  defaultTimeScale,
  longestFirst,
  NET_MAX_TIME_SCALE,
  planProcesses,
  processesPerCell,
  runPool,
} from '../harness/sweep/schedule.ts';
import { tinyScenario } from './fixtures/results.ts';

const key = (concurrency: number, memoryMb: number): CellKey => ({ concurrency, memoryMb, architecture: 'x86_64' });

/** A task whose promise the test resolves or rejects by hand, to see what runs when. */
function controlledTasks() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const task = (item: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      pending.set(item, { resolve, reject });
    });
  const settle = async (item: string, error?: Error) => {
    const handle = pending.get(item)!;
    if (error) handle.reject(error);
    else handle.resolve();
    // Let the pool's lanes take their next item.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, task, settle };
}

describe('measuring cells side by side', () => {
  it('runs at most `width` tasks at once, in the order given, starting the next as one ends', async () => {
    const { started, task, settle } = controlledTasks();
    const pool = runPool(['a', 'b', 'c', 'd'], 2, task);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b']);
    await settle('b');
    expect(started).toEqual(['a', 'b', 'c']);
    await settle('a');
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    await settle('c');
    await settle('d');
    await expect(pool).resolves.toBeUndefined();
  });

  it('starts nothing new after a failure, lets the running task finish, then throws the failure', async () => {
    const { started, task, settle } = controlledTasks();
    let settledPool = false;
    const pool = runPool(['a', 'b', 'c'], 2, task).finally(() => {
      settledPool = true;
    });
    pool.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    await settle('a', new Error('cgroup vanished'));
    expect(started).toEqual(['a', 'b']);
    expect(settledPool).toBe(false);
    await settle('b');
    await expect(pool).rejects.toThrow('cgroup vanished');
    expect(started).toEqual(['a', 'b']);
  });

  it('with width 1 runs one task after another', async () => {
    const order: string[] = [];
    await runPool(['x', 'y', 'z'], 1, async (item) => {
      order.push(`start ${item}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      order.push(`end ${item}`);
    });
    expect(order).toEqual(['start x', 'end x', 'start y', 'end y', 'start z', 'end z']);
  });

  it('measures the longest cells first, so that side-by-side cells end together; ties keep the grid order', () => {
    const ideal: Record<number, number> = { 1: 23_000, 8: 8_200, 60: 7_500 };
    const grid = [key(1, 128), key(8, 128), key(60, 128), key(1, 1769), key(8, 1769), key(60, 1769)];
    expect(longestFirst(grid, (cell) => ideal[cell.concurrency]!)).toEqual([key(1, 128), key(1, 1769), key(8, 128), key(8, 1769), key(60, 128), key(60, 1769)]);
  });

  it('gives each of the cells measured at once an equal whole number of cores, at least one', () => {
    expect(coresPerCell(1, 2)).toBe(2);
    expect(coresPerCell(2, 2)).toBe(1);
    expect(coresPerCell(3, 8)).toBe(2);
    expect(coresPerCell(4, 2)).toBe(1);
  });

  it('measures a cell per core by default, but one at a time when the rows go to a real database or parsing takes a worker pool', () => {
    expect(defaultParallelCells(tinyScenario, 54, 2)).toBe(2);
    expect(defaultParallelCells(tinyScenario, 54, 8)).toBe(8);
    expect(defaultParallelCells(tinyScenario, 1, 8)).toBe(1);
    const withDatabase = scenarioSchema.parse({
      ...tinyScenario,
      sink: { kind: 'postgres', url: 'env:DATABASE_URL', table: 'pages', poolSize: 2, batchSize: 1 },
    });
    expect(defaultParallelCells(withDatabase, 54, 8)).toBe(1);
    const withPool = scenarioSchema.parse({ ...tinyScenario, work: { parse: 'html', threads: 2 } });
    expect(defaultParallelCells(withPool, 54, 8)).toBe(1);
  });

  it("gives a net cell two cores: its servers' process runs beside the job's", () => {
    expect([processesPerCell('net'), processesPerCell('msw'), processesPerCell(undefined)]).toEqual([2, 1, 1]);
    expect(defaultParallelCells(tinyScenario, 54, 2, processesPerCell('net'))).toBe(1);
    expect(defaultParallelCells(tinyScenario, 54, 8, processesPerCell('net'))).toBe(4);
    expect(defaultParallelCells(tinyScenario, 54, 1, processesPerCell('net'))).toBe(1);
  });

  it("sweeps net at time scale 4 at most unless told, and the in-process backends at the scenario's", () => {
    const at = (timeScale: number) => ({ sweep: { ...tinyScenario.sweep, timeScale } });
    expect(NET_MAX_TIME_SCALE).toBe(4);
    expect([defaultTimeScale(at(16), 'net'), defaultTimeScale(at(2), 'net'), defaultTimeScale(at(1), 'net')]).toEqual([4, 2, 1]);
    expect([defaultTimeScale(at(16), 'msw'), defaultTimeScale(at(16), 'undici'), defaultTimeScale(at(16), undefined)]).toEqual([16, 16, 16]);
  });
});

describe('cells sharing a process', () => {
  const ideal: Record<number, number> = { 1: 23_000, 2: 11_500, 8: 8_200, 60: 7_500 };
  const idealMs = (cell: CellKey) => ideal[cell.concurrency]!;

  it('gives each memory size one process, its longest cells first, the sizes with the most work first', () => {
    const grid = [key(8, 1769), key(1, 1769), key(60, 128), key(1, 128), key(2, 128)];
    expect(planProcesses(grid, 2, idealMs, true)).toEqual([
      [key(1, 128), key(2, 128), key(60, 128)],
      [key(1, 1769), key(8, 1769)],
    ]);
  });

  it('splits a memory size over several processes when there are fewer sizes than lanes, so no lane idles', () => {
    const grid = [key(1, 1769), key(2, 1769), key(8, 1769), key(60, 1769)];
    expect(planProcesses(grid, 2, idealMs, true)).toEqual([
      [key(1, 1769), key(8, 1769)],
      [key(2, 1769), key(60, 1769)],
    ]);
    expect(planProcesses([key(1, 1769)], 4, idealMs, true)).toEqual([[key(1, 1769)]]);
  });

  it('gives every cell a process of its own when cells may not share one', () => {
    expect(planProcesses([key(8, 512), key(1, 512)], 2, idealMs, false)).toEqual([[key(1, 512)], [key(8, 512)]]);
  });

  it('is allowed for the built-in job on the modelled database only', () => {
    expect(cellsShareProcess(tinyScenario)).toBe(true);
    const pglite = scenarioSchema.parse({ ...tinyScenario, sink: { kind: 'pglite', table: 'pages', poolSize: 1, batchSize: 1 } });
    expect(cellsShareProcess(pglite)).toBe(false);
    const handler = scenarioSchema.parse({ ...tinyScenario, workload: { module: 'handler.ts' } });
    expect(cellsShareProcess(handler)).toBe(false);
  });
});
