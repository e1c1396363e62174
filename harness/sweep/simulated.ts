import { simulateWithCpu, type Calibration } from '../model/calibrate.ts';
import { LAMBDA_THROTTLE_PERIOD_MS, singleThreadShare } from '../model/lambda.ts';
import { idealMakespanMs } from '../model/simulate.ts';
import type { CellKey } from '../results/cell-key.ts';
import { SCHEMA_VERSION, type Cell, type Grid, type Results } from '../results/schema.ts';
import type { RepMeasurement } from '../run/protocol.ts';
import { scenarioHash } from '../scenario/load.ts';
import type { Scenario } from '../scenario/schema.ts';
import { buildCell } from './build-cell.ts';
import type { Shard } from './shard.ts';

/**
 * The whole grid answered by the simulator instead of replays: one deterministic "repetition"
 * per cell, in milliseconds of computation rather than minutes of waiting. Pure apart from the
 * environment and timestamps the caller passes in.
 */
export interface SimulatedSweepPlan {
  scenario: Scenario;
  grid: Grid;
  shard?: Shard;
  cells: CellKey[];
  calibration: Calibration;
  toolVersion: string;
  env: Results['env'];
  startedAt: string;
}

/** One simulated invocation as if a cell process had measured it. */
export function simulatedMeasurement(scenario: Scenario, key: CellKey, calibration: Calibration): RepMeasurement {
  const cpuShare = singleThreadShare(key.memoryMb);
  const result = simulateWithCpu(scenario, { concurrency: key.concurrency, cpuShare, cpuPeriodMs: LAMBDA_THROTTLE_PERIOD_MS, model: calibration.model });
  return {
    durationMs: result.makespanMs,
    cpuMs: result.cpuWorkMs,
    mockCpuMs: 0,
    // The simulator does not model memory: no peak is claimed.
    peakRssMb: 0,
    requests: result.requests,
    errors: result.errors,
    retries: result.retries,
    errorsByKind: result.errorsByKind,
    requestLatenciesMs: result.requestLatencyMs,
    unmockedRequests: [],
    mockFailures: [],
  };
}

export function simulateSweep(plan: SimulatedSweepPlan): Results {
  const idealByConcurrency = new Map<number, number>();
  const cells: Cell[] = plan.cells.map((key) => {
    let idealMs = idealByConcurrency.get(key.concurrency);
    if (idealMs === undefined) {
      idealMs = idealMakespanMs(plan.scenario, key.concurrency);
      idealByConcurrency.set(key.concurrency, idealMs);
    }
    const measurement = simulatedMeasurement(plan.scenario, key, plan.calibration);
    return buildCell(key, { state: 'completed', reps: [measurement] }, idealMs, plan.scenario);
  });
  const { overheadMs, parse } = plan.calibration.model;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'fanout-tuner', version: plan.toolVersion },
    env: plan.env,
    scenario: plan.scenario,
    scenarioHash: scenarioHash(plan.scenario),
    method: {
      backend: 'simulator',
      cpuThrottle: 'model',
      timeScale: 1,
      reps: 1,
      warmupInvocations: 0,
      notes: [
        'Every cell was answered by the discrete-event simulator (harness/model/simulate.ts), not replayed: durations are deterministic, one repetition per cell, no confidence interval.',
        `CPU per attempt that reaches the client: ${(overheadMs * 1000).toFixed(0)} us of client overhead (${plan.calibration.source}); per successful response also the parse, ${(parse.fixedMs * 1000).toFixed(1)} us + ${(parse.msPerByte * 1e6).toFixed(2)} us per 1000 bytes, timed with tinybench on the scenario's own bodies. The event loop runs it at memory/1769 of a core, capped at 1.`,
        'Memory is not simulated: peakRssMb is 0, so no memory size is ruled out for running out of memory. Check the chosen size with a real sweep.',
      ],
    },
    startedAt: plan.startedAt,
    finishedAt: plan.startedAt,
    grid: plan.grid,
    ...(plan.shard ? { shard: plan.shard } : {}),
    cells,
    warnings: [],
    recommendation: null,
  };
}
