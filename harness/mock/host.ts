import { statedRetryAfterMs, TokenBucket } from '../model/token-bucket.ts';
import type { HostSpec } from '../scenario/schema.ts';

/**
 * One mocked host's state during one invocation: its token bucket and its serving slots.
 * Time is passed in (scaled milliseconds), so the same class serves the replay and tests.
 */
export class HostState {
  /** The rate limit, in scenario time: the simulator's own bucket (harness/model/token-bucket.ts). */
  private readonly bucket: TokenBucket | undefined;
  private busy = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly spec: HostSpec,
    private readonly startMs: number,
    private readonly timeScale: number,
  ) {
    this.bucket = spec.rateLimit ? new TokenBucket(spec.rateLimit) : undefined;
  }

  /**
   * Takes a token for a request arriving at `nowMs` (scaled). Returns 0 when the request may
   * proceed, otherwise the wait the 429 states, in unscaled (scenario) milliseconds.
   */
  admit(nowMs: number): number {
    if (!this.bucket || !this.spec.rateLimit) return 0;
    const untilTokenMs = this.bucket.take((nowMs - this.startMs) * this.timeScale);
    return untilTokenMs > 0 ? statedRetryAfterMs(untilTokenMs, this.spec.rateLimit.retryAfter) : 0;
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
