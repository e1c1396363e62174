import { z } from 'zod';
import { scenarioSchema } from '../scenario/schema.ts';

/**
 * The results contract (schemaVersion 1; docs/contracts.md), documented field by field here. Other
 * tools read these files, so the reader validates them with this schema and a field changes only
 * with a version bump.
 */

export const SCHEMA_VERSION = 1;

/** Above this measured/ideal ratio (`fidelityRatio`) the harness itself, not the job, limits the duration. */
export const FIDELITY_LIMIT = 1.1;

const ms = z.number().nonnegative();

export const errorsByKindSchema = z.object({
  http5xx: z.number().int().nonnegative(),
  http429: z.number().int().nonnegative(),
  timeout: z.number().int().nonnegative(),
  reset: z.number().int().nonnegative(),
  other: z.number().int().nonnegative(),
});
export type ErrorsByKind = z.infer<typeof errorsByKindSchema>;

export const latencyPercentilesSchema = z.object({ p50: ms, p95: ms, p99: ms });

/** One timed invocation of the job. */
export const repSchema = z.object({
  durationMs: ms,
  cpuMs: ms,
  /** CPU time of the event-loop thread alone (cpuMs also counts V8's helper threads), where the platform tells it. */
  loopCpuMs: ms.optional(),
  /** The mock's own CPU time within cpuMs (serving, building responses; not msw's internals). */
  mockCpuMs: ms.optional(),
  peakRssMb: z.number().nonnegative(),
  /** `net` backend: connections the servers accepted (each a TCP, and on https a TLS, handshake the job paid for). */
  connectionsOpened: z.number().int().nonnegative().optional(),
  /** `net` backend: CPU the servers spent, in their own process outside the job's quota. */
  serverCpuMs: ms.optional(),
  /**
   * How much later than asked the hosts' latency timers fired, real ms on average (negative:
   * earlier). The simulator adds it to each latency when it models the replay as it ran
   * (docs/job-model.md, The replay's timers).
   */
  latencyTimerLateMs: z.number().optional(),
  /** A deployed function: rows that appeared in the sink's table during the invocation. */
  rowsWritten: z.number().int().nonnegative().optional(),
  requests: z.number().int().nonnegative(),
  /** Requests that failed for good, after their retries. */
  errors: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  /** Every failed attempt, retried or not, by kind. */
  errorsByKind: errorsByKindSchema,
  /**
   * The built-in job: of those, the attempts whose socket could not open because the job's
   * process held as many file descriptors as Lambda allows (EMFILE); counted as resets too.
   */
  descriptorFailures: z.number().int().nonnegative().optional(),
  requestLatencyMs: latencyPercentilesSchema,
});
export type Rep = z.infer<typeof repSchema>;

export const summarySchema = z.object({
  median: ms,
  mean: ms,
  p95: ms,
  /** 95% confidence interval of the mean (Student t); equal ends with a single repetition. */
  ci95: z.tuple([ms, ms]),
});
export type Summary = z.infer<typeof summarySchema>;

/** Per-request latency over all repetitions: counts per bucket, upper bounds in ms. */
export const histogramSchema = z.object({
  upperBoundsMs: z.array(ms),
  counts: z.array(z.number().int().nonnegative()),
});
export type Histogram = z.infer<typeof histogramSchema>;

const cellKey = {
  concurrency: z.number().int().positive(),
  memoryMb: z.number().int().min(128).max(10_240),
  architecture: z.enum(['x86_64', 'arm64']),
};

export const completedCellSchema = z.object({
  ...cellKey,
  state: z.literal('completed'),
  reps: z.array(repSchema).min(1),
  durationMs: summarySchema,
  cpuMs: summarySchema,
  /** Failed requests / requests, over all repetitions. */
  errorRate: z.number().min(0).max(1),
  errorsByKind: errorsByKindSchema,
  retries: z.number().int().nonnegative(),
  peakRssMb: z.number().nonnegative(),
  requestLatencyMs: latencyPercentilesSchema.extend({ histogram: histogramSchema }),
  /** Makespan an infinitely fast client and mock would reach with the same draws and limits. */
  idealMs: ms,
  /** Median measured duration / idealMs; above 1.10 the harness itself is a bottleneck. */
  fidelityRatio: z.number().nonnegative(),
  /**
   * The simulator's makespan for this cell as the replay ran it (its CPU share and time scale,
   * the mock's CPU included), with CPU calibrated from the cell's repetitions.
   */
  simulatedMs: ms.optional(),
  /** simulatedMs / the median measured duration (before any time-scale correction) - 1. */
  modelError: z.number().optional(),
  /**
   * Scenario ms that time scaling added (the simulator's estimate), already subtracted from every
   * repetition's durationMs.
   */
  timeScaleCorrectionMs: z.number().optional(),
  /** The simulator's duration in production: the client's CPU only (the mock's left out) at this memory size's CPU share. */
  projectedMs: ms.optional(),
  /**
   * A race's finalist measured again in real time (time scale 1), throttled in Lambda's 20 ms
   * periods: the median of those repetitions and its deviation from the time-scaled durationMs.median.
   */
  confirmed: z.object({ reps: z.number().int().positive(), durationMs: ms, deviation: z.number() }).optional(),
  billedMs: z.number().int().nonnegative(),
  costUsd: z.object({ perInvocation: z.number().nonnegative(), perMonth: z.number().nonnegative() }),
});
export type CompletedCell = z.infer<typeof completedCellSchema>;

export const failedCellSchema = z.object({
  ...cellKey,
  state: z.enum(['errored', 'oom', 'timeout']),
  /** What ended the cell, in words a user can act on. */
  error: z.string(),
  /** Repetitions that finished before the failure. */
  reps: z.array(repSchema),
});
export type FailedCell = z.infer<typeof failedCellSchema>;

export const cellSchema = z.discriminatedUnion('state', [completedCellSchema, failedCellSchema]);
export type Cell = z.infer<typeof cellSchema>;
export type CellState = Cell['state'];

const settingSchema = z.object({ concurrency: z.number().int().positive(), memoryMb: z.number().int(), architecture: z.enum(['x86_64', 'arm64']) });

/** How sure the pick is (harness/analyze/race.ts): the winner against each rival it was raced with. */
export const decisionSchema = z.object({
  outcome: z.enum(['separated', 'equivalent', 'undecided']),
  /** Two settings within this share of each other on the strategy's metric are equivalent. */
  equivalence: z.number().nonnegative(),
  /** The repetitions the winner got. */
  winnerReps: z.number().int().nonnegative(),
  compared: z.array(
    settingSchema.extend({
      reps: z.number().int().nonnegative(),
      verdict: z.enum(['separated', 'equivalent', 'open']),
      /** median(rival) / median(winner) of the strategy's metric, and its interval (95% for separation, 90% for equivalence). */
      ratio: z.number(),
      interval: z.tuple([z.number(), z.number()]),
      pValue: z.number(),
    }),
  ),
  /** The equivalent settings, the pick among them first (lower cost, then lower concurrency). */
  equivalentSet: z.array(settingSchema).optional(),
  /** The race's time budget, s, when the sweep raced (--reps auto). */
  budgetS: z.number().positive().optional(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const recommendationSchema = z.object({
  strategy: z.enum(['cost', 'speed', 'balanced']),
  concurrency: z.number().int().positive(),
  memoryMb: z.number().int(),
  architecture: z.enum(['x86_64', 'arm64']),
  durationMs: ms,
  costUsdPerMonth: z.number().nonnegative(),
  why: z.string(),
  decision: decisionSchema.optional(),
  /** Where the pick's duration came from: the replay, or the simulator's projection where the replay was not faithful. */
  durationFrom: z.enum(['measurement', 'projection']).optional(),
});
export type Recommendation = z.infer<typeof recommendationSchema>;

export const methodSchema = z.object({
  /** The mock backend that served the requests. */
  backend: z.string(),
  /** How memory sizes were applied: a real CPU quota, a model, or not at all (one size at full speed). */
  cpuThrottle: z.enum(['cgroup', 'model', 'none']),
  /** Latencies ran this many times shorter; durations are scaled back. */
  timeScale: z.number().min(1),
  /** Repetitions per cell; with a race, the screening repetitions (contenders got more). */
  reps: z.number().int().positive(),
  /** --reps auto: the race's time budget, s, and equivalence margin. */
  race: z.object({ budgetS: z.number().positive(), equivalence: z.number().nonnegative() }).optional(),
  /** Untimed invocations in each cell process before the timed ones (module loading, JIT, pools). */
  warmupInvocations: z.number().int().nonnegative(),
  /** Whether each cell ran in a network namespace of its own where only the scenario exists (absent: files written before the fence). */
  isolation: z.enum(['namespace', 'none']).optional(),
  /** `net`: this machine's cost of one loopback HTTP round trip, measured at the sweep's start. */
  loopback: z
    .object({ roundTrips: z.number().int().positive(), wallUsPerRoundTrip: z.number().nonnegative(), cpuUsPerRoundTrip: z.number().nonnegative() })
    .optional(),
  /** `net`: the client's CPU per new connection (TCP, and TLS on https), measured at the sweep's start on a full core. */
  connectCpuMs: z.number().nonnegative().optional(),
  /** `net`: the part of connectCpuMs spent opening the connection, before its first round trip. */
  connectOpenCpuMs: z.number().nonnegative().optional(),
  /** `net` over TLS: the part of connectCpuMs spent on the hello, between the TCP connect and the server's half of the handshake. */
  connectHelloCpuMs: z.number().nonnegative().optional(),
  /** `net`: the servers' CPU per new connection (the accept, their half of the handshake), measured with connectCpuMs. */
  serverConnectCpuMs: z.number().nonnegative().optional(),
  /** Cells measured at the same time, each in its own process with its share of the cores (1 if absent). */
  parallelCells: z.number().int().positive().optional(),
  /** What the method costs in accuracy, in words. */
  notes: z.array(z.string()),
});
export type Method = z.infer<typeof methodSchema>;

export const gridSchema = z.object({
  concurrency: z.array(cellKey.concurrency).min(1),
  memoryMb: z.array(cellKey.memoryMb).min(1),
});
export type Grid = z.infer<typeof gridSchema>;

export const shardSchema = z
  .object({ index: z.number().int().positive(), count: z.number().int().positive() })
  .refine((s) => s.index <= s.count, { message: 'index must not exceed count', path: ['index'] });

/**
 * Today's function in production, read from its CloudWatch REPORT records (`--production LOGS`),
 * against the sweep's prediction at today's setting (harness/production/compare.ts).
 */
export const productionSchema = z.object({
  /** The logs it was read from, as given: a path, or "-" for stdin. */
  source: z.string(),
  /** Today's setting: the memory size the REPORT records state, the concurrency from `--current` or the template. */
  concurrency: cellKey.concurrency,
  memoryMb: cellKey.memoryMb,
  /** REPORT records at that memory size. */
  invocations: z.number().int().positive(),
  /** The handler's duration (INIT excluded), with its distribution in the latency histogram's buckets. */
  durationMs: z.object({ median: ms, p95: ms, histogram: histogramSchema.optional() }),
  /** Mean billed ms per invocation, as Lambda billed it (INIT of cold starts included since 2025-08-01). */
  billedMs: ms,
  /** The largest Max Memory Used of any invocation. */
  maxMemoryUsedMb: z.number().nonnegative().optional(),
  /** Mean INIT duration of the cold starts (a SnapStart restore's Billed Restore Duration); absent when none started cold. */
  initDurationMs: ms.optional(),
  /** Share of invocations that started cold (an Init or Restore Duration in their REPORT). */
  coldStartRate: z.number().min(0).max(1),
  /** Today's bill at the scenario's invocations a month, from the billed durations. */
  costUsd: z.object({ perInvocation: z.number().nonnegative(), perMonth: z.number().nonnegative() }),
  /** The sweep's median duration at today's setting; absent when that cell did not complete. */
  predictedMs: ms.optional(),
  /** predictedMs / durationMs.median - 1: negative when the sweep is faster than production. */
  error: z.number().optional(),
});
export type Production = z.infer<typeof productionSchema>;

export const resultsSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('fanout-tuner'), version: z.string() }),
  env: z.object({
    node: z.string(),
    platform: z.string(),
    cpus: z.number().int().positive(),
    commit: z.string(),
    branch: z.string(),
  }),
  scenario: scenarioSchema,
  scenarioHash: z.string().startsWith('sha256:'),
  method: methodSchema,
  /** Written while the sweep runs; `complete` once every cell of the grid has been measured. */
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  cells: z.array(cellSchema),
  /** Every warning shown during the sweep (fidelity, outliers, oom), kept for the report. */
  warnings: z.array(z.string()),
  recommendation: recommendationSchema.nullable().optional(),
  /** The grid the sweep was asked for, when flags overrode `scenario.sweep`; the whole grid, also in a shard. */
  grid: gridSchema.optional(),
  /**
   * Whether the job waits on I/O or on its CPU (CPU time / wall time), read at the recommended
   * cell, and whether more memory or more concurrency helps (harness/analyze/classify.ts).
   */
  classification: z
    .object({
      kind: z.enum(['io-bound', 'mixed', 'cpu-bound']),
      concurrency: z.number().int().positive(),
      memoryMb: z.number().int(),
      cpuBusy: z.number().nonnegative(),
      memoryGain: z.number().optional(),
      concurrencyGain: z.number().optional(),
      bestIsHighest: z.boolean(),
      advice: z.string(),
    })
    .optional(),
  /** Today's function in production against the prediction (`--production LOGS`); absent in files without it. */
  production: productionSchema.optional(),
  /** Set when this file holds one shard of the grid (`--shard I/N`); `npm run merge` joins the shards. */
  shard: shardSchema.optional(),
});
export type Results = z.infer<typeof resultsSchema>;

export function isCompleted(cell: Cell): cell is CompletedCell {
  return cell.state === 'completed';
}
