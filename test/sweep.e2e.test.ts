import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../harness/analyze/model-check.ts';
import { loadResults } from '../harness/results/io.ts';
import { loadScenario, scenarioHash } from '../harness/scenario/load.ts';
import { defaultParallelCells } from '../harness/sweep/schedule.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

describe('a sweep end to end', () => {
  it('writes a results file that meets the contract, with fidelity ratios, and prints the summary', () => {
    const dir = scratchDir('sweep');
    const out = join(dir, 'small.json');
    const run = runScript('sweep', ['scenarios/small-fast.json', '--concurrency', '1,8', '--reps', '2', '--out', out]);
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);
    expect(hasStackTrace(run.stderr)).toBe(false);

    // loadResults validates against the schema and throws on any violation.
    const results = loadResults(out);
    expect(results.schemaVersion).toBe(1);
    expect(results.scenarioHash).toBe(scenarioHash(loadScenario('scenarios/small-fast.json')));
    expect(results.env.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(results.cells.map((c) => [c.concurrency, c.memoryMb, c.state])).toEqual([
      [1, 1769, 'completed'],
      [8, 1769, 'completed'],
    ]);
    const [serial, parallel] = results.cells;
    if (serial?.state !== 'completed' || parallel?.state !== 'completed') throw new Error('cells did not complete');
    expect(serial.reps).toHaveLength(2);
    // 30 requests of ~40 ms: eight workers are several times faster than one.
    expect(serial.durationMs.median / parallel.durationMs.median).toBeGreaterThan(3);
    for (const cell of [serial, parallel]) {
      expect(cell.fidelityRatio).toBeCloseTo(cell.durationMs.median / cell.idealMs, 10);
      expect(cell.fidelityRatio).toBeGreaterThan(0.9);
      expect(cell.requestLatencyMs.histogram.counts.reduce((a, b) => a + b, 0)).toBe(60);
      expect(cell.durationMs.ci95[0]).toBeLessThanOrEqual(cell.durationMs.mean);
      expect(cell.durationMs.ci95[1]).toBeGreaterThanOrEqual(cell.durationMs.mean);
    }
    // The simulator, calibrated from each cell's own CPU time, agrees with the replay within 10%.
    const checks = checkModel(results.cells, 0.1);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((check) => !check.withinTolerance)).toEqual([]);
    expect(results.method.warmupInvocations).toBe(1);
    // Cells measured side by side (one per core here) still land in the grid's order.
    expect(results.method.parallelCells ?? 1).toBe(defaultParallelCells(results.scenario, 2));
    expect(results.finishedAt).toBeDefined();
    // The journal is removed once the results file is complete.
    expect(existsSync(join(dir, 'small.jsonl'))).toBe(false);
    expect(run.stdout).toMatch(/concurrency\s+memory MB\s+state\s+median s/);
    expect(run.stdout).toContain(`results: ${out}`);
  });
});
