/**
 * The simulator's event queue (harness/model/simulate.ts): events in time order, and those at the
 * same time in the order they were scheduled, which docs/job-model.md's rules rely on (Fine
 * points, same-time events). Numbers rather than objects per kind: the loop runs millions of times
 * in a sweep.
 */

export interface SimEvent {
  timeMs: number;
  seq: number;
  kind: number;
  /** The request (in the simulator, for SINK_DONE, the request waiting for the write; -1 for the final flush). */
  request: number;
  /** The attempt (in the simulator, for SINK_DONE, the batch index). */
  attempt: number;
  /** What the kind needs besides (in the simulator: SERVICE_END the fault code, CPU_DONE the outcome, SINK_DONE the rows). */
  value: number;
}

/** A binary min-heap on (time, sequence): events at the same time run in the order they were scheduled. */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private nextSeq = 0;

  push(timeMs: number, kind: number, request: number, attempt: number, value: number): void {
    const heap = this.heap;
    const event: SimEvent = { timeMs, seq: this.nextSeq++, kind, request, attempt, value };
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.timeMs < timeMs || (p.timeMs === timeMs && p.seq < event.seq)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let c = heap[left]!;
      if (right < n) {
        const r = heap[right]!;
        if (r.timeMs < c.timeMs || (r.timeMs === c.timeMs && r.seq < c.seq)) {
          child = right;
          c = r;
        }
      }
      if (last.timeMs < c.timeMs || (last.timeMs === c.timeMs && last.seq < c.seq)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
