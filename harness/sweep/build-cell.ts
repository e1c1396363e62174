import { histogram, percentile, sortSamples, summarize } from '../analyze/statistics.ts';
import { billedDurationMs, invocationCost } from '../model/pricing.ts';
import type { CellKey } from '../results/cell-key.ts';
import type { Cell, ErrorsByKind, Rep } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { RepMeasurement } from '../run/protocol.ts';
import type { CellRun } from '../run/cell-session.ts';
import { blockedLookupMessage, unmockedMessage } from '../mock/backend.ts';
import { modelCell, type ConnectCpu, type ParseCost, type ReplayCpu } from '../model/calibrate.ts';

/** Turns one repetition's raw measurement into the results' repetition record. */
export function toRep(measurement: RepMeasurement): Rep {
  const latencies = sortSamples(measurement.requestLatenciesMs.filter((x) => Number.isFinite(x)));
  return {
    durationMs: measurement.durationMs,
    cpuMs: measurement.cpuMs,
    ...(measurement.loopCpuMs !== undefined ? { loopCpuMs: measurement.loopCpuMs } : {}),
    ...(measurement.mockCpuMs !== undefined ? { mockCpuMs: measurement.mockCpuMs } : {}),
    ...(measurement.connectionsOpened !== undefined ? { connectionsOpened: measurement.connectionsOpened } : {}),
    peakRssMb: measurement.peakRssMb,
    ...(measurement.serverCpuMs !== undefined ? { serverCpuMs: measurement.serverCpuMs } : {}),
    ...(measurement.latencyTimerLateMs !== undefined ? { latencyTimerLateMs: measurement.latencyTimerLateMs } : {}),
    ...(measurement.rowsWritten !== undefined ? { rowsWritten: measurement.rowsWritten } : {}),
    requests: measurement.requests,
    errors: measurement.errors,
    retries: measurement.retries,
    errorsByKind: measurement.errorsByKind,
    ...(measurement.descriptorFailures !== undefined ? { descriptorFailures: measurement.descriptorFailures } : {}),
    requestLatencyMs: latencies.length
      ? { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99) }
      : { p50: 0, p95: 0, p99: 0 },
  };
}

function sumErrors(reps: readonly RepMeasurement[]): ErrorsByKind {
  const total: ErrorsByKind = { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 };
  for (const rep of reps) {
    for (const kind of Object.keys(total) as Array<keyof ErrorsByKind>) total[kind] += rep.errorsByKind[kind];
  }
  return total;
}

/**
 * Pure: a cell's record from its repetitions, its ideal makespan and the scenario's pricing.
 * A cell whose job sent a request the scenario does not serve is `errored`: its numbers would
 * describe a different job.
 */
export interface CellModelInputs {
  /** How the replay's process got CPU (time scale, cgroup quota, cores). */
  replay: Omit<ReplayCpu, 'memoryMb'>;
  /** The job's parse, timed on the scenario's bodies. */
  parse: ParseCost;
  /**
   * The client's CPU per new connection on this machine (harness/run/connect-cost.ts), ms on a
   * full core. Used for cells whose repetitions count their connections (the net backend).
   */
  connect?: ConnectCpu;
}

export function buildCell(key: CellKey, run: CellRun, idealMs: number, scenario: Scenario, model?: CellModelInputs): Cell {
  let reps = run.reps.map(toRep);
  if (run.state !== 'completed') return { ...key, state: run.state, error: run.error, reps };
  const unmocked = run.reps.flatMap((rep) => rep.unmockedRequests);
  if (unmocked.length > 0) {
    return { ...key, state: 'errored', error: unmockedMessage(unmocked[0]!), reps };
  }
  const lookups = [...new Set(run.reps.flatMap((rep) => rep.blockedLookups ?? []))];
  if (lookups.length > 0) {
    return { ...key, state: 'errored', error: blockedLookupMessage(lookups), reps };
  }
  const mockFailures = run.reps.flatMap((rep) => rep.mockFailures);
  if (mockFailures.length > 0) {
    return { ...key, state: 'errored', error: `the mock server failed (a fanout-tuner bug, please report it): ${mockFailures[0]}`, reps };
  }
  const rawMedianMs = summarize(sortSamples(reps.map((r) => r.durationMs))).median;
  // A deployed function that made no request leaves the simulator nothing to model: its duration is its own work.
  const modelled =
    model && run.requests?.length !== 0
      ? modelCell(
          scenario,
          { ...key, reps: reps.map((rep) => ({ ...rep, mockCpuMs: rep.mockCpuMs ?? 0 })) },
          model.replay,
          model.parse,
          model.connect,
          run.requests,
        )
      : undefined;
  if (modelled && modelled.timeScaleCorrectionMs !== 0) {
    reps = reps.map((rep) => ({ ...rep, durationMs: Math.max(0, rep.durationMs - modelled.timeScaleCorrectionMs) }));
  }
  const durationMs = summarize(sortSamples(reps.map((r) => r.durationMs)));
  const allLatencies = run.reps.flatMap((rep) => rep.requestLatenciesMs).filter((x) => Number.isFinite(x));
  const sortedLatencies = sortSamples(allLatencies);
  const requests = reps.reduce((n, r) => n + r.requests, 0);
  const failed = reps.reduce((n, r) => n + r.errors, 0);
  const billedMs = billedDurationMs(durationMs.median);
  return {
    ...key,
    state: 'completed',
    reps,
    durationMs,
    cpuMs: summarize(sortSamples(reps.map((r) => r.cpuMs))),
    errorRate: requests ? failed / requests : 0,
    errorsByKind: sumErrors(run.reps),
    retries: reps.reduce((n, r) => n + r.retries, 0),
    peakRssMb: Math.max(...reps.map((r) => r.peakRssMb)),
    requestLatencyMs: {
      ...(sortedLatencies.length
        ? { p50: percentile(sortedLatencies, 0.5), p95: percentile(sortedLatencies, 0.95), p99: percentile(sortedLatencies, 0.99) }
        : { p50: 0, p95: 0, p99: 0 }),
      histogram: histogram(allLatencies),
    },
    idealMs,
    fidelityRatio: idealMs > 0 ? durationMs.median / idealMs : 1,
    ...(modelled
      ? {
          simulatedMs: modelled.simulatedMs,
          modelError: rawMedianMs > 0 ? modelled.simulatedMs / rawMedianMs - 1 : 0,
          ...(modelled.timeScaleCorrectionMs !== 0 ? { timeScaleCorrectionMs: modelled.timeScaleCorrectionMs } : {}),
          projectedMs: modelled.projectedMs,
        }
      : {}),
    billedMs,
    costUsd: invocationCost({
      billedMs,
      memoryMb: key.memoryMb,
      architecture: key.architecture,
      invocationsPerMonth: scenario.lambda.invocationsPerMonth,
      region: scenario.lambda.region,
    }),
  };
}

export { FIDELITY_LIMIT } from '../results/schema.ts';
