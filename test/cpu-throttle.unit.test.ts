import { describe, expect, it } from 'vitest';
import { EventLoopCpu } from '../harness/model/cpu-throttle.ts';

describe('the event-loop CPU throttled in periods, as Lambda throttles', () => {
  it('runs a burst within its period quota at full speed', () => {
    // 128 MB-like: 10% of a 20 ms period is 2 ms of full speed.
    const cpu = new EventLoopCpu(0.1, 20);
    expect(cpu.run(3, 1.5)).toBe(4.5);
    // The same period's quota has 0.5 ms left: 0.5 ms run, paused to 20, the last 0.5 ms 20..20.5.
    expect(cpu.run(10, 1)).toBe(20.5);
    expect(cpu.workMs).toBe(2.5);
  });

  it('pauses a long burst at the end of each period, where an even share would stretch it evenly', () => {
    const throttled = new EventLoopCpu(0.1, 20);
    // 5 ms of work from 0: 2 ms in each of the periods from 0, 20, and 1 ms from 40.
    expect(throttled.run(0, 5)).toBe(41);
    const even = new EventLoopCpu(0.1);
    expect(even.run(0, 5)).toBe(50);
  });

  it('gives every period its quota afresh, however long the CPU was idle', () => {
    const cpu = new EventLoopCpu(0.1, 20);
    expect(cpu.run(0, 2)).toBe(2);
    expect(cpu.run(65, 3)).toBe(81);
  });

  it('queues work behind earlier work, first come first served', () => {
    const cpu = new EventLoopCpu(0.5, 20);
    expect(cpu.run(0, 8)).toBe(8);
    expect(cpu.busyAt(7)).toBe(true);
    // Asked at 5, starts at 8: 2 ms left of the quota, then 2 ms from 20.
    expect(cpu.run(5, 4)).toBe(22);
    expect(cpu.busyAt(22)).toBe(false);
  });

  it('runs a time-scaled replay under a sub-core quota at its full speed, 1/timeScale, until the quota is used', () => {
    // Time scale 4, a quota of 0.29 of a core in 10 ms periods: in scenario time a share of
    // 0.0725, periods of 40 ms, 1/4 of a core at full speed; 2.9 ms of work per period.
    const cpu = new EventLoopCpu(0.0725, 40, 0.25);
    // 2 ms of work takes 8 ms at full speed, within the first period's quota.
    expect(cpu.run(0, 2)).toBe(8);
    // 2 ms more: 0.9 ms (3.6 ms) to use up the quota, a pause until 40, then 1.1 ms (4.4 ms).
    expect(cpu.run(8, 2)).toBeCloseTo(44.4, 9);
    // An even share would stretch 4 ms to 55.2 ms.
    expect(new EventLoopCpu(0.0725).run(0, 4)).toBeCloseTo(55.17, 2);
  });

  it('is not throttled at a whole core, with or without a period', () => {
    expect(new EventLoopCpu(1, 20).run(0, 50)).toBe(50);
    expect(new EventLoopCpu(1).run(0, 50)).toBe(50);
  });

  it('ends a burst exactly at a period boundary, not a period later, whatever the rounding', () => {
    // 0.1 + 0.2 is not exactly 0.3 in binary: the leftover is rounding, not work.
    const cpu = new EventLoopCpu(0.3 / 20, 20);
    expect(cpu.run(0, 0.1 + 0.2)).toBeCloseTo(0.3, 12);
  });
});
