import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel } from '../analyze/model-check.ts';
import { loadResults } from '../results/io.ts';
import { isCompleted, type Results } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { Progress } from '../sweep/progress.ts';
import { gridCells } from '../sweep/shard.ts';
import { runSweep } from '../sweep/sweep.ts';

/** A real sweep of part of a bundled scenario's grid, as the validation of the simulator needs it. */
export interface ValidationRun {
  scenario: Scenario;
  concurrency: number[];
  memoryMb: number[];
  reps: number;
  timeScale: number;
}

export interface ValidatedCell {
  concurrency: number;
  memoryMb: number;
  medianMs: number;
  simulatedMs: number | undefined;
  /** simulatedMs / measured median (before any time-scale correction) - 1. */
  modelError: number | undefined;
  fidelityRatio: number;
  /** Faithful (fidelity <= 1.10): the simulator is held to the tolerance here. */
  checked: boolean;
  withinTolerance: boolean | undefined;
  timeScaleCorrectionMs: number | undefined;
}

export interface Validation {
  scenario: string;
  timeScale: number;
  reps: number;
  /** Wall time the sweep took, s. */
  sweepS: number;
  cells: ValidatedCell[];
}

const silent: Progress = { start() {}, cellStarted() {}, cellFinished() {}, addRound() {}, stop() {} };

/**
 * Sweeps the given part of the grid for real, one cell at a time (the most faithful way: no cell
 * shares the machine with another), with cgroup quotas where possible.
 */
export async function sweepForValidation(run: ValidationRun, toolVersion: string): Promise<{ results: Results; sweepS: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-'));
  const started = performance.now();
  try {
    const results = await runSweep(
      {
        scenario: run.scenario,
        grid: { concurrency: run.concurrency, memoryMb: run.memoryMb },
        cells: gridCells({ concurrency: run.concurrency, memoryMb: run.memoryMb, architecture: run.scenario.lambda.architecture }),
        reps: run.reps,
        timeScale: run.timeScale,
        outFile: join(dir, `${run.scenario.name}.json`),
        resume: false,
        cpuThrottle: 'auto',
        parallelCells: 1,
        toolVersion,
      },
      silent,
    );
    return { results, sweepS: (performance.now() - started) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pure: the validation record of a sweep's results. */
export function validationOf(results: Results, sweepS: number, tolerance: number): Validation {
  const checks = new Map(checkModel(results.cells, tolerance).map((check) => [`${check.concurrency}x${check.memoryMb}`, check]));
  return {
    scenario: results.scenario.name,
    timeScale: results.method.timeScale,
    reps: results.method.reps,
    sweepS,
    cells: results.cells.filter(isCompleted).map((cell) => {
      const check = checks.get(`${cell.concurrency}x${cell.memoryMb}`);
      return {
        concurrency: cell.concurrency,
        memoryMb: cell.memoryMb,
        medianMs: cell.durationMs.median,
        simulatedMs: cell.simulatedMs,
        modelError: cell.modelError,
        fidelityRatio: cell.fidelityRatio,
        checked: check !== undefined,
        withinTolerance: check?.withinTolerance,
        timeScaleCorrectionMs: cell.timeScaleCorrectionMs,
      };
    }),
  };
}

/**
 * Runs the default sweep of a bundled scenario exactly as a user would (`npm run sweep`: the
 * scenario's grid, time scale and repetitions, cells side by side, the report written) and times
 * it from the command to its exit.
 */
export function timeDefaultSweep(scenarioFile: string): { results: Results; sweepS: number } {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-'));
  const out = join(dir, 'default.json');
  try {
    const started = performance.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/sweep.ts', scenarioFile, '--out', out, '--report', join(dir, 'default.html')], {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const sweepS = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`the default sweep of ${scenarioFile} failed: ${run.stderr.trim().split('\n').at(-1)}`);
    return { results: loadResults(out), sweepS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
