import { describe, expect, it } from 'vitest';
import { measureTimerLateness, TimerLateness } from '../harness/run/timer-lateness.ts';

describe('timer lateness', () => {
  it('measures how much later than asked a wait ended, on average', async () => {
    const timers = new TimerLateness();
    expect(timers.meanMs()).toBeUndefined();
    // Node waits 1 ms for a timer asked for less (its documented floor), counted from its loop's
    // clock, which may be a little behind: 0.2 ms came out 0.9 ms late here. Half a ms is asserted.
    for (let i = 0; i < 5; i++) await timers.sleep(0.2);
    expect(timers.meanMs()).toBeGreaterThanOrEqual(0.5);
    expect(timers.meanMs()).toBeLessThan(50);
  });

  it('calibrates on the waits given, leaving out those that set no timer', async () => {
    expect(await measureTimerLateness([])).toBe(0);
    expect(await measureTimerLateness([0, 0])).toBe(0);
    expect(await measureTimerLateness([0, 0.3, 0.3, 0.3])).toBeGreaterThanOrEqual(0.4);
  });
});
