import { describe, expect, it } from 'vitest';
import { EventQueue } from '../harness/model/event-queue.ts';

describe("the simulator's event queue", () => {
  it('gives events back in time order, and same-time events in the order they were scheduled', () => {
    const queue = new EventQueue();
    const pushed: Array<[number, number]> = [
      [5, 0],
      [1, 1],
      [5, 2],
      [3, 3],
      [1, 4],
      [0, 5],
      [5, 6],
    ];
    for (const [time, request] of pushed) queue.push(time, 0, request, 0, 0);
    const order: number[] = [];
    for (let event = queue.pop(); event; event = queue.pop()) order.push(event.request);
    expect(order).toEqual([5, 1, 4, 3, 0, 2, 6]);
  });

  it('keeps the order across pushes between pops, over many events', () => {
    const queue = new EventQueue();
    const times: number[] = [];
    let popped = -Infinity;
    // A deterministic shuffle of times, with repeats.
    for (let i = 0; i < 1000; i++) {
      queue.push((i * 7919) % 97, i % 5, i, 0, 0);
      if (i % 3 === 2) times.push(queue.pop()!.timeMs);
    }
    for (let event = queue.pop(); event; event = queue.pop()) times.push(event.timeMs);
    expect(times).toHaveLength(1000);
    // Pops between pushes may see an earlier time pushed later, but never the queue out of order within a run of pops.
    const tail = times.slice(-(1000 - Math.floor(1000 / 3)));
    for (const t of tail) {
      expect(t).toBeGreaterThanOrEqual(popped);
      popped = t;
    }
  });

  it('is empty when nothing is left', () => {
    const queue = new EventQueue();
    expect(queue.pop()).toBeUndefined();
    queue.push(1, 2, 3, 4, 5);
    expect(queue.pop()).toEqual({ timeMs: 1, seq: 0, kind: 2, request: 3, attempt: 4, value: 5 });
    expect(queue.pop()).toBeUndefined();
  });
});
