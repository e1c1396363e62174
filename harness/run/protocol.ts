import type { ErrorsByKind } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';

/** What the sweep asks of a cell process: the job, and the settings shared by the cells it measures. */
export interface CellJob {
  scenario: Scenario;
  /** The first cell's concurrency; a user's handler sees it as MAX_WORKERS from the start. */
  concurrency: number;
  memoryMb: number;
  reps: number;
  warmupInvocations: number;
  /**
   * The warm-up only loads modules and warms the JIT; at a high concurrency it does so in the time
   * of the slowest request instead of the sum of all of them.
   */
  warmupConcurrency: number;
  timeScale: number;
  /** An invocation slower than this (scenario ms) ends the cell as `timeout`, as Lambda would. */
  invocationTimeoutMs: number;
  /** The `net` backend: the fence host's control socket; absent, the mocks run in the cell's process. */
  serversAt?: string;
  /** Where the scenario's relative paths (workload.module, sink.dataDir) start; the working directory if absent. */
  scenarioDir?: string;
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
  /** Host names the job looked up that the scenario does not define (fenced cells). */
  blockedLookups?: string[];
  mockFailures: string[];
  /** `net`: connections the servers accepted during the invocation. */
  connectionsOpened?: number;
  /** `net`: CPU the servers spent, outside the job's process and quota. */
  serverCpuMs?: number;
  /** How late the hosts' latency timers fired, real ms on average (harness/run/timer-lateness.ts). */
  latencyTimerLateMs?: number;
  /** A deployed function: rows that appeared in the sink's table during the invocation. */
  rowsWritten?: number;
  /** The built-in job: attempts that failed for want of a file descriptor (EMFILE), when any did. */
  descriptorFailures?: number;
}

/**
 * ready -> prepare (the child loads the handler, opens the sink, starts the mocks and runs the
 * warm-up, unconfined, as a Lambda's INIT) -> prepared -> the parent confines the child -> then
 * for each cell measured in this process: cell -> rep... -> done; finally finish (the child closes
 * its sink and exits). A cell that fails (failed, timeout) ends the process.
 */
export type ParentMessage =
  | { type: 'prepare'; job: CellJob }
  | { type: 'cell'; concurrency: number; /** Timed invocations; default the job's reps. */ reps?: number }
  | { type: 'finish' };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'prepared' }
  | { type: 'rep'; rep: RepMeasurement }
  | { type: 'timeout'; afterMs: number }
  | { type: 'failed'; error: string }
  | { type: 'done' };
