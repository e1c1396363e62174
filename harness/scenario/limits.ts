// Apart from the schema (and zod) so that a cell process, which plans requests under these
// bounds, does not load the schema's validator: its modules would count in the job's memory.

/**
 * Upper bounds on what a scenario may ask for (docs/scenarios.md, Limits). Past them a sweep would
 * hang, run out of memory or overflow a timer (Node runs a timer of 2^31 ms or more after 1 ms);
 * they sit far above any real job. Every time is at most Lambda's 900 s, and the longest wait the
 * client can be told to make, backoffMs x 2^retries, stays below 2^31 ms.
 */
export const LIMITS = {
  /** Lambda's longest invocation, in ms: no latency, timeout or wait of one invocation is longer. */
  timeMs: 900_000,
  /** One response body, in bytes (16 MiB): the mock builds and caches each one in memory. */
  bodyBytes: 16 * 1024 * 1024,
  /** Requests of one invocation, over all groups. */
  requests: 100_000,
  /** Retries of one request: 900 s x 2^10 is still below 2^31 ms. */
  retries: 10,
  /** Timed repetitions per cell. */
  reps: 100,
  timeScale: 1000,
  /** Values in each of sweep.concurrency and sweep.memoryMb. */
  gridValues: 100,
  /** Requests a host serves at once, connections, rows per batch. */
  count: 100_000,
  poolSize: 1000,
  threads: 64,
  samples: 1_000_000,
  rps: { min: 0.001, max: 1_000_000 },
  invocationsPerMonth: 10_000_000_000,
} as const;
