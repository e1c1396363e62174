import { statedRetryAfterMs } from '../scenario/plan.ts';
import type { HostSpec } from '../scenario/schema.ts';

/**
 * One mocked host's state during one invocation: its token bucket and its serving slots.
 * Time is passed in (scaled milliseconds), so the same class serves the replay and tests.
 */
export class HostState {
  private tokens: number;
  private lastRefillMs: number;
  private readonly burst: number;
  /** Tokens per scaled millisecond. */
  private readonly refillPerMs: number;
  private busy = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly spec: HostSpec,
    startMs: number,
    private readonly timeScale: number,
  ) {
    this.burst = spec.rateLimit ? (spec.rateLimit.burst ?? Math.max(1, spec.rateLimit.rps)) : Infinity;
    this.refillPerMs = spec.rateLimit ? (spec.rateLimit.rps * timeScale) / 1000 : Infinity;
    this.tokens = this.burst;
    this.lastRefillMs = startMs;
  }

  /**
   * Takes a token for a request arriving at `nowMs`. Returns 0 when the request may proceed,
   * otherwise the wait the 429 states, in unscaled (scenario) milliseconds.
   */
  admit(nowMs: number): number {
    if (!this.spec.rateLimit) return 0;
    this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.lastRefillMs) * this.refillPerMs);
    this.lastRefillMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return statedRetryAfterMs(((1 - this.tokens) / this.refillPerMs) * this.timeScale, this.spec.rateLimit.retryAfter);
  }

  /** Resolves when one of the host's `capacity` slots is free (FIFO). */
  acquire(): Promise<void> | undefined {
    const capacity = this.spec.capacity ?? Infinity;
    if (this.busy < capacity) {
      this.busy++;
      return undefined;
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next in line, so `busy` does not change.
    if (next) next();
    else this.busy--;
  }

  get waiting(): number {
    return this.queue.length;
  }
}
