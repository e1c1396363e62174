/**
 * The event loop's CPU as the simulator sees it: one thread, first come first served, at a share
 * of a core (docs/job-model.md, CPU).
 *
 * Lambda, like a cgroup's CFS quota, does not slow a function down evenly: it lets it run at full
 * speed until it has used its share of a period (about 20 ms; at 128 MB, 1.44 ms of it), then
 * pauses it until the next period begins. A job whose CPU comes in short bursts between network
 * waits (a serial scraper parsing one page at a time) is hardly slowed at all, where an even
 * 7.2% of a core would make each 2 ms parse take 28 ms. With a period the CPU is throttled that
 * way; without one it runs at an even share, which is how a time-scaled replay's event loop runs
 * (its quota, grown with the time scale, lets one thread run unthrottled at 1/timeScale of its
 * real speed in scenario time). A time-scaled replay whose quota is less than a core is throttled in
 * periods too, in scenario time: at full speed it runs at 1/timeScale (`fullSpeed`).
 */
export class EventLoopCpu {
  /** Work on a full core, ms, done so far. */
  workMs = 0;
  private freeAtMs = 0;
  /** The period the last piece of work ran in, and the quota used in it. */
  private period = 0;
  private usedInPeriodMs = 0;
  private readonly quotaMs: number;

  /**
   * @param share of one core, in (0, 1] (checked by the simulator's options)
   * @param periodMs the throttling period from the invocation's start, ms; undefined for an even share
   * @param fullSpeed the share of a core the loop runs at while its period's quota lasts: 1 in real
   *   time, 1/timeScale in a time-scaled replay; at least `share`
   */
  constructor(
    private readonly share: number,
    private readonly periodMs?: number,
    private readonly fullSpeed = 1,
  ) {
    this.quotaMs = share * (periodMs ?? 0);
  }

  /** True when work asked for at `nowMs` would have to wait for earlier work. */
  busyAt(nowMs: number): boolean {
    return this.freeAtMs > nowMs;
  }

  /** When the work queued so far is done: `nowMs` if the loop is idle then. */
  freeAt(nowMs: number): number {
    return Math.max(nowMs, this.freeAtMs);
  }

  /** Queues `workMs` of work (on a full core) at `nowMs`; returns when it is done. */
  run(nowMs: number, workMs: number): number {
    const start = Math.max(nowMs, this.freeAtMs);
    this.workMs += workMs;
    this.freeAtMs = this.periodMs === undefined || this.share >= this.fullSpeed ? start + workMs / this.share : this.throttled(start, workMs, this.periodMs);
    return this.freeAtMs;
  }

  /** Full speed while the period's quota lasts, then a pause until the next period. */
  private throttled(start: number, workMs: number, periodMs: number): number {
    const period = Math.floor(start / periodMs);
    if (period > this.period) {
      this.period = period;
      this.usedInPeriodMs = 0;
    }
    let now = start;
    let left = workMs;
    for (;;) {
      // Work done before the quota or the period runs out, at full speed.
      const ran = Math.max(0, Math.min(left, this.quotaMs - this.usedInPeriodMs, ((this.period + 1) * periodMs - now) * this.fullSpeed));
      now += ran / this.fullSpeed;
      left -= ran;
      this.usedInPeriodMs += ran;
      // Below a picosecond, what is left is the rounding of the subtractions, not work.
      if (left <= 1e-9) return now;
      this.period++;
      this.usedInPeriodMs = 0;
      now = Math.max(now, this.period * periodMs);
    }
  }
}
