/**
 * A host's rate limit (docs/job-model.md, A host and Fine points): one implementation for the
 * replay's mocked hosts (harness/mock/host.ts) and the simulator (harness/model/simulate.ts), so
 * that their 429s agree. Times are scenario (unscaled) milliseconds; the replay converts its
 * scaled clock before asking.
 */

export interface RateLimit {
  /** Tokens refilled per second. */
  rps: number;
  /** Bucket size; max(1, rps) when absent. */
  burst?: number | undefined;
}

/**
 * Refilled in floating point, the bucket can land a hair under one token at the instant it holds
 * exactly one (ten refills of a tenth make 0.9999999999999999). In exact arithmetic the request
 * would pass, so it does. 1e-9 of a token is a billionth of a refill interval: no replay can tell
 * it from exact.
 */
const TOKEN_EPSILON = 1e-9;

export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  private refilledAtMs: number;

  constructor(
    readonly rateLimit: RateLimit,
    startMs = 0,
  ) {
    this.burst = rateLimit.burst ?? Math.max(1, rateLimit.rps);
    this.tokens = this.burst;
    this.refilledAtMs = startMs;
  }

  /**
   * A request arrives at `nowMs`: it takes a token and passes (0), or finds less than one and is
   * refused; the answer is then the time until one token is there, in ms, not rounded (> 0).
   */
  take(nowMs: number): number {
    const { rps } = this.rateLimit;
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.refilledAtMs) * rps) / 1000);
    this.refilledAtMs = nowMs;
    if (this.tokens < 1 - TOKEN_EPSILON) return ((1 - this.tokens) * 1000) / rps;
    // A request that passed on 1 - epsilon leaves an empty bucket, not a negative one.
    this.tokens = Math.max(0, this.tokens - 1);
    return 0;
  }
}

/**
 * The wait a 429 tells the client, in ms, given the time until the host has a token again:
 * whole ms with `retry-after-ms` (at least 1), or whole seconds when the host only sends Retry-After.
 * The 1e-9 keeps a wait of exactly 100 ms, computed as 100.00000000001, from becoming 101.
 */
export function statedRetryAfterMs(untilTokenMs: number, precision: 'ms' | 'seconds'): number {
  const ms = Math.max(1, Math.ceil(untilTokenMs - 1e-9));
  return precision === 'seconds' ? Math.ceil(ms / 1000) * 1000 : ms;
}
