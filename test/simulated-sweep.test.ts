import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_PARSE } from '../harness/model/calibrate.ts';
import { loadResults } from '../harness/results/io.ts';
import { isCompleted } from '../harness/results/schema.ts';
import { simulateSweep } from '../harness/sweep/simulated.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';
import { modelScenario } from './helpers/scenario-files.ts';

const fourSerial = modelScenario({ name: 'four', requests: [{ host: 'a.example', count: 4 }] });

describe('a simulated sweep', () => {
  const results = simulateSweep({
    scenario: fourSerial,
    grid: { concurrency: [1, 4], memoryMb: [1769, 442] },
    cells: [1769, 442].flatMap((memoryMb) => [1, 4].map((concurrency) => ({ concurrency, memoryMb, architecture: 'x86_64' as const }))),
    calibration: { model: { overheadMs: 10, parse: NO_PARSE }, source: 'a test' },
    toolVersion: '0.0.0',
    env: { node: 'v20', platform: 'linux-x64', cpus: 2, commit: 'abc', branch: 'main' },
    startedAt: '2026-11-28T00:00:00.000Z',
  });

  it('answers every cell with one deterministic repetition from the simulator', () => {
    const medians = results.cells.map((cell) => (isCompleted(cell) ? [cell.concurrency, cell.memoryMb, cell.durationMs.median, cell.reps.length] : []));
    // Serial: 4 x (100 + 10 ms of CPU). Four at once: the answers arrive together at 100 ms and
    // queue for the one CPU. At 442 MB the CPU is throttled as on Lambda: full speed for
    // 20 x 442 / 1769 = 4.997 ms of each 20 ms period. Serially each answer (at a period's start)
    // takes two periods' quota and 0.006 ms of a third; four at once take eight and 0.023 ms.
    const quota = (20 * 442) / 1769;
    expect(medians.map(([concurrency, memoryMb, , reps]) => [concurrency, memoryMb, reps])).toEqual([
      [1, 1769, 1],
      [4, 1769, 1],
      [1, 442, 1],
      [4, 442, 1],
    ]);
    const durations = medians.map((row) => row[2]!);
    expect(durations.slice(0, 2)).toEqual([440, 140]);
    expect(durations[2]).toBeCloseTo(560 + (10 - 2 * quota), 9);
    expect(durations[3]).toBeCloseTo(260 + (40 - 8 * quota), 9);
  });

  it('states its method and the fidelity of each cell against the ideal makespan', () => {
    expect(results.method.backend).toBe('simulator');
    expect(results.method.cpuThrottle).toBe('model');
    expect(results.method.notes[1]).toContain('10000 us of client overhead (a test)');
    const first = results.cells[0]!;
    expect(isCompleted(first) && [first.idealMs, first.fidelityRatio, first.cpuMs.median]).toEqual([400, 1.1, 40]);
  });
});

describe('npm run sweep -- --simulate', () => {
  it('writes a normal results file answered by the simulator', () => {
    const dir = scratchDir('simulate');
    const out = join(dir, 'simulated.json');
    const run = runScript('sweep', ['scenarios/small-fast.json', '--simulate', '--memory', '128,1769', '--no-report', '--out', out]);
    expect(run.code).toBe(0);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr).toMatch(/simulated 10 cells in \d+ ms/);
    const results = loadResults(out);
    expect(results.method.backend).toBe('simulator');
    expect(results.cells.map((cell) => cell.state)).toEqual(Array(10).fill('completed'));
    expect(results.recommendation?.concurrency).toBeGreaterThan(1);
  });

  it('refuses --calibrate-from without --simulate, naming the flag', () => {
    const run = runScript('sweep', ['scenarios/small-fast.json', '--calibrate-from', 'x.json', '--out', join(tmpdir(), 'never.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--calibrate-from: only calibrates the simulator/);
  });
});
