import type { ErrorsByKind } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';

/** What the sweep asks of one cell's child process. */
export interface CellJob {
  scenario: Scenario;
  concurrency: number;
  memoryMb: number;
  reps: number;
  warmupInvocations: number;
  timeScale: number;
  /** An invocation slower than this (scenario ms) ends the cell as `timeout`, as Lambda would. */
  invocationTimeoutMs: number;
}

/** One timed invocation as the child measured it; latencies in scenario (unscaled) ms. */
export interface RepMeasurement {
  durationMs: number;
  cpuMs: number;
  /** CPU time of the event-loop thread alone, where the platform tells it (Linux). */
  loopCpuMs?: number;
  /** The mock's own share of cpuMs (serving and building responses), when the backend measures it. */
  mockCpuMs?: number;
  peakRssMb: number;
  requests: number;
  errors: number;
  retries: number;
  errorsByKind: ErrorsByKind;
  requestLatenciesMs: number[];
  unmockedRequests: string[];
  mockFailures: string[];
}

export type ParentMessage = { type: 'run'; job: CellJob };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'rep'; rep: RepMeasurement }
  | { type: 'timeout'; afterMs: number }
  | { type: 'failed'; error: string }
  | { type: 'done' };
