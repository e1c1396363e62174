import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How late a replay's timers fire. The replay waits out every host latency and sink write with a
 * timer, and Node's timers are not exact: one asked for under 1 ms waits at least 1 ms, and the
 * others fire some tenths of a millisecond early or late, depending on the fraction of a
 * millisecond asked for, on how stale the event loop's clock was when the timer was set, and on
 * whatever else holds the loop when it is due. Measured here, 0.5 ms waited 1.13 ms; 2.5 ms,
 * 2.17 ms. In a replay at time scale 16 each real 0.1 ms is 1.6 ms of scenario time, on every
 * request. The simulator, modelling a replay as it ran, adds the mean it measured to each wait
 * (docs/job-model.md, The replay's timers).
 */
export class TimerLateness {
  private waits = 0;
  private lateMs = 0;

  /** Waits `ms` real ms, recording how much later than asked the wait ended. */
  async sleep(ms: number): Promise<void> {
    const started = performance.now();
    await sleep(ms);
    this.record(ms, performance.now() - started);
  }

  /** Records a wait timed by its caller: asked for `askedMs`, it took `tookMs` (real ms). */
  record(askedMs: number, tookMs: number): void {
    this.lateMs += tookMs - askedMs;
    this.waits++;
  }

  /** Mean real ms per wait (negative: early); undefined when nothing waited. */
  meanMs(): number | undefined {
    return this.waits > 0 ? this.lateMs / this.waits : undefined;
  }
}

/** Enough waits for a mean to a few hundredths of a ms, in well under a second for the usual sinks. */
export const CALIBRATION_WAITS = 40;
const CALIBRATION_BUDGET_MS = 500;

/**
 * The mean lateness of timers of these lengths (real ms) on this machine, on an event loop with
 * nothing else to do: the timer's own inexactness, without the queueing behind other work that a
 * busy replay adds (the simulator models that queueing itself). One wait after another, as many
 * of `waitsMs` as fit in half a second, at least one. 0 when there is nothing to wait for.
 */
export async function measureTimerLateness(waitsMs: readonly number[]): Promise<number> {
  const timers = new TimerLateness();
  const started = performance.now();
  for (const ms of waitsMs.slice(0, CALIBRATION_WAITS)) {
    if (ms <= 0) continue;
    await timers.sleep(ms);
    if (performance.now() - started > CALIBRATION_BUDGET_MS) break;
  }
  return timers.meanMs() ?? 0;
}
