import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCellSession } from '../harness/run/cell-session.ts';
import type { CellJob } from '../harness/run/protocol.ts';
import { loadScenario } from '../harness/scenario/load.ts';
import type { Progress } from '../harness/sweep/progress.ts';
import { gridCells } from '../harness/sweep/shard.ts';
import { runSweep } from '../harness/sweep/sweep.ts';
import { scratchDir } from './helpers/scratch.ts';

const scenario = loadScenario('scenarios/small-fast.json');
const silent: Progress = { start() {}, cellStarted() {}, cellFinished() {}, addRound() {}, stop() {} };

function job(overrides: Partial<CellJob> = {}): CellJob {
  return {
    scenario,
    concurrency: 8,
    memoryMb: 1769,
    reps: 2,
    warmupInvocations: 1,
    warmupConcurrency: 32,
    timeScale: 1,
    invocationTimeoutMs: 30_000,
    ...overrides,
  };
}

describe('a cell process', () => {
  it('measures one cell after another at their own concurrency, and ends when closed', async () => {
    const session = await openCellSession(job());
    const fast = await session.measure(8);
    const slow = await session.measure(2);
    expect(session.open).toBe(true);
    await session.close();
    expect(session.open).toBe(false);

    expect(fast.state).toBe('completed');
    expect(slow.state).toBe('completed');
    for (const run of [fast, slow]) {
      expect(run.reps).toHaveLength(2);
      expect(run.reps.map((rep) => rep.requests)).toEqual([30, 30]);
      expect(run.reps.every((rep) => rep.peakRssMb > 20 && rep.peakRssMb < 500)).toBe(true);
    }
    // 30 requests of ~40 ms on a host serving 8 at once: 8 workers are well over twice as fast as 2.
    const fastest = (run: typeof fast) => Math.min(...run.reps.map((rep) => rep.durationMs));
    expect(fastest(slow) / fastest(fast)).toBeGreaterThan(2);
  });

  it('ends with a cell that fails; the sweep measures the next cell in a fresh process', async () => {
    // 30 requests one at a time take over a second: concurrency 1 overruns a 1 s function timeout,
    // concurrency 8 does not.
    const strict = { ...scenario, lambda: { ...scenario.lambda, timeoutS: 1 } };
    const session = await openCellSession(job({ scenario: strict, concurrency: 1, reps: 1, invocationTimeoutMs: 1000 }));
    const overrun = await session.measure(1);
    expect(overrun.state).toBe('timeout');
    await session.close();
    expect(session.open).toBe(false);

    const dir = scratchDir('session');
    const grid = { concurrency: [1, 8], memoryMb: [1769] };
    const results = await runSweep(
      {
        scenario: strict,
        grid,
        cells: gridCells({ ...grid, architecture: 'x86_64' }),
        reps: 1,
        timeScale: 1,
        outFile: join(dir, 'strict.json'),
        resume: false,
        cpuThrottle: 'none',
        parallelCells: 1,
        toolVersion: 'test',
      },
      silent,
    );
    expect(results.cells.map((cell) => [cell.concurrency, cell.state])).toEqual([
      [1, 'timeout'],
      [8, 'completed'],
    ]);
  });
});
