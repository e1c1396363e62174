import { describe, expect, it } from 'vitest';
import { planRequests } from '../harness/scenario/plan.ts';
import type { RepMeasurement } from '../harness/run/protocol.ts';
import { buildCell, type CellModelInputs } from '../harness/sweep/build-cell.ts';
import { fixed, modelScenario } from './helpers/scenario-files.ts';

/** Two pages of 100 ms from one host, a free instant sink. */
const scenario = modelScenario({ requests: [{ host: 'a.example', count: 2 }], hosts: { 'a.example': { latencyMs: fixed(100) } }, work: { parse: 'none' } });
const key = { concurrency: 1, memoryMb: 1769, architecture: 'x86_64' as const };
const model: CellModelInputs = { replay: { timeScale: 1, throttled: false, cores: 2 }, parse: { fixedMs: 0, msPerByte: 0 } };

function rep(durationMs: number, requests: number): RepMeasurement {
  return {
    durationMs,
    cpuMs: 2,
    mockCpuMs: 0,
    peakRssMb: 60,
    requests,
    errors: 0,
    retries: 0,
    errorsByKind: { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 },
    requestLatenciesMs: Array.from({ length: requests }, () => 100),
    unmockedRequests: [],
    mockFailures: [],
  };
}

describe('a cell built from its repetitions', () => {
  it("models a deployed function's cell on the requests its warm-up made", () => {
    const cell = buildCell(key, { state: 'completed', reps: [rep(205, 2)], requests: planRequests(scenario) }, 200, scenario, model);
    expect(cell).toMatchObject({ state: 'completed', idealMs: 200, fidelityRatio: 1.025 });
    expect(cell.state === 'completed' ? cell.simulatedMs : undefined).toBeGreaterThanOrEqual(200);
  });

  it('neither models nor judges the fidelity of a function that made no request: its duration is its own work', () => {
    const cell = buildCell(key, { state: 'completed', reps: [rep(3, 0)], requests: [] }, 0, scenario, model);
    expect(cell).toMatchObject({ state: 'completed', idealMs: 0, fidelityRatio: 1, errorRate: 0 });
    expect(cell).not.toHaveProperty('simulatedMs');
    expect(cell).not.toHaveProperty('modelError');
  });
});
