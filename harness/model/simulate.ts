import type { ErrorsByKind } from '../results/schema.ts';
import { drawAttempt, drawSinkLatency, planRequests, statedRetryAfterMs, type Fault } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';

/**
 * A discrete-event simulation of one invocation of the job, to the rules of docs/job-model.md,
 * in virtual time. It draws every latency, size and fault from harness/scenario/plan.ts, so that
 * attempt a of request i is the same here, in the replay and in every cell (common random numbers).
 */

export interface SimulationOptions {
  concurrency: number;
  /** CPU work per successful response on one full core, ms (client overhead + parse). */
  cpuMsPerResponse?: number | ((bodyBytes: number) => number);
  /** CPU work per failed attempt (429/5xx/reset/timeout handling), ms on a full core. */
  cpuMsPerFailure?: number;
  /** Share of one core the event loop gets (memory/1769, capped at 1). */
  cpuShare?: number;
}

export interface SimulationResult {
  makespanMs: number;
  requests: number;
  /** Requests that failed for good, after their retries. */
  errors: number;
  retries: number;
  /** Every failed attempt, retried or not, by kind. */
  errorsByKind: ErrorsByKind;
  /** Per request (plan order), from its first send until its final attempt's outcome reached the client. */
  requestLatencyMs: number[];
  /** CPU time consumed: each piece of work divided by the CPU share. */
  cpuBusyMs: number;
  rowsWritten: number;
}

/** The makespan with an infinitely fast client: the best any replay of these draws can do. */
export function idealMakespanMs(scenario: Scenario, concurrency: number): number {
  return simulate(scenario, { concurrency }).makespanMs;
}

// Event kinds. Numbers rather than strings: the inner loop runs millions of times in a sweep.
const SEND = 0;
const SERVICE_END = 1;
const CLIENT_TIMEOUT = 2;
const CPU_DONE = 3;
const SINK_DONE = 4;

// Outcomes of an attempt as the client sees them.
const SUCCESS = 0;
const HTTP_5XX = 1;
const HTTP_429 = 2;
const TIMEOUT = 3;
const RESET = 4;
type FailureKind = typeof HTTP_5XX | typeof HTTP_429 | typeof TIMEOUT | typeof RESET;

// Faults drawn for an attempt, as the server acts on them.
const FAULT_CODE: Record<Fault, number> = { none: 0, error: 1, timeout: 2, reset: 3 };
const FAULT_NONE = 0;
const FAULT_ERROR = 1;
const FAULT_TIMEOUT = 2;

/** A token bucket refilled in floating point can land a hair under 1 at the instant it should hold 1. */
const TOKEN_EPSILON = 1e-9;
/** Likewise, a wait of exactly 100 ms must not round up to 101. */

interface SimEvent {
  timeMs: number;
  seq: number;
  kind: number;
  /** The request (or, for SINK_DONE, the request waiting for the write; -1 for the final flush). */
  request: number;
  /** The attempt (for SINK_DONE, the batch index). */
  attempt: number;
  /** SERVICE_END: the fault code; CPU_DONE: the outcome; SINK_DONE: the rows in the batch. */
  value: number;
}

/** A binary min-heap on (time, sequence): events at the same time run in the order they were scheduled. */
class EventQueue {
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

/** An attempt waiting in a host's queue: it carries its own draw, since the client may have moved on. */
interface QueuedAttempt {
  request: number;
  attempt: number;
  latencyMs: number;
  fault: number;
}

interface HostState {
  capacity: number;
  inService: number;
  queue: QueuedAttempt[];
  queueHead: number;
  rps: number;
  burst: number;
  tokens: number;
  refilledAtMs: number;
  retryAfter: 'ms' | 'seconds';
}

interface QueuedBatch {
  batch: number;
  rows: number;
  latencyMs: number;
  waiter: number;
}

function checkOptions(options: SimulationOptions): void {
  const { concurrency, cpuMsPerResponse, cpuMsPerFailure, cpuShare } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (typeof cpuMsPerResponse === 'number' && !(Number.isFinite(cpuMsPerResponse) && cpuMsPerResponse >= 0)) {
    throw new RangeError(`cpuMsPerResponse must be a finite number >= 0, got ${cpuMsPerResponse}`);
  }
  if (cpuMsPerFailure !== undefined && !(Number.isFinite(cpuMsPerFailure) && cpuMsPerFailure >= 0)) {
    throw new RangeError(`cpuMsPerFailure must be a finite number >= 0, got ${cpuMsPerFailure}`);
  }
  if (cpuShare !== undefined && !(cpuShare > 0 && cpuShare <= 1)) {
    throw new RangeError(`cpuShare must be in (0, 1] (memory / 1769, capped at 1), got ${cpuShare}`);
  }
}

export function simulate(scenario: Scenario, options: SimulationOptions): SimulationResult {
  checkOptions(options);
  const cpuShare = options.cpuShare ?? 1;
  const cpuMsPerFailure = options.cpuMsPerFailure ?? 0;
  const perResponse = options.cpuMsPerResponse ?? 0;
  const cpuMsForResponse = (bodyBytes: number): number => {
    if (typeof perResponse === 'number') return perResponse;
    const ms = perResponse(bodyBytes);
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError(`cpuMsPerResponse(${bodyBytes}) must return a finite number >= 0, got ${ms}`);
    }
    return ms;
  };

  const plan = planRequests(scenario);
  const n = plan.length;
  const { timeoutMs, retries: maxRetries, backoffMs } = scenario.client;
  const { batchSize, poolSize } = scenario.sink;

  const hostsByName = new Map<string, HostState>();
  const hostOf: HostState[] = plan.map(({ host }) => {
    let state = hostsByName.get(host);
    if (!state) {
      const spec = scenario.hosts[host];
      if (!spec) throw new Error(`host ${host} is not in the scenario`);
      const rps = spec.rateLimit?.rps ?? 0;
      const burst = spec.rateLimit ? (spec.rateLimit.burst ?? Math.max(1, rps)) : 0;
      state = {
        capacity: spec.capacity ?? Number.POSITIVE_INFINITY,
        inService: 0,
        queue: [],
        queueHead: 0,
        rps,
        burst,
        tokens: burst,
        refilledAtMs: 0,
        retryAfter: spec.rateLimit?.retryAfter ?? 'ms',
      };
      hostsByName.set(host, state);
    }
    return state;
  });

  // Per-request client state. `attemptOf` + `awaiting` tell live events from those of an attempt
  // the client already gave up on (the server still serves those; see docs/job-model.md).
  const attemptOf = new Int32Array(n);
  const awaiting = new Uint8Array(n);
  /** When the answer of the current attempt will reach the client (Infinity until it is served). */
  const answerAtMs = new Float64Array(n);
  const firstSentAtMs = new Float64Array(n);
  const bodyBytesOf = new Float64Array(n);
  const waitAfterFailureMs = new Float64Array(n);
  const latencyMs = new Float64Array(n);

  const errorsByKind: ErrorsByKind = { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 };
  let errors = 0;
  let retries = 0;
  let cpuBusyMs = 0;
  let cpuFreeAtMs = 0;
  let rowsWritten = 0;
  let bufferedRows = 0;
  let batchesStarted = 0;
  let freeConnections = poolSize;
  const sinkQueue: QueuedBatch[] = [];
  let sinkQueueHead = 0;
  let nextRequest = 0;
  let tasksDone = 0;
  let finished = false;
  let makespanMs = 0;

  const events = new EventQueue();

  const finish = (now: number): void => {
    finished = true;
    makespanMs = now;
  };

  const startBatch = (now: number, rows: number, waiter: number): void => {
    const batch = batchesStarted++;
    const batchLatencyMs = drawSinkLatency(scenario, batch);
    if (freeConnections > 0) {
      freeConnections--;
      events.push(now + batchLatencyMs, SINK_DONE, waiter, batch, rows);
    } else {
      sinkQueue.push({ batch, rows, latencyMs: batchLatencyMs, waiter });
    }
  };

  const taskDone = (now: number): void => {
    tasksDone++;
    if (nextRequest < n) {
      startRequest(nextRequest++, now);
    } else if (tasksDone === n) {
      if (bufferedRows > 0) {
        startBatch(now, bufferedRows, -1);
        bufferedRows = 0;
      } else {
        finish(now);
      }
    }
  };

  const afterCpu = (request: number, attempt: number, outcome: number, now: number): void => {
    if (outcome === SUCCESS) {
      bufferedRows++;
      if (bufferedRows >= batchSize) {
        startBatch(now, bufferedRows, request);
        bufferedRows = 0;
      } else {
        taskDone(now);
      }
    } else if (attempt < maxRetries) {
      // Always through the queue, even for a zero wait, so that retries never recurse.
      events.push(now + waitAfterFailureMs[request]!, SEND, request, attempt + 1, 0);
    } else {
      errors++;
      taskDone(now);
    }
  };

  const runOnCpu = (now: number, workMs: number, request: number, attempt: number, outcome: number): void => {
    if (workMs === 0 && cpuFreeAtMs <= now) {
      afterCpu(request, attempt, outcome, now);
      return;
    }
    const durationMs = workMs / cpuShare;
    cpuBusyMs += durationMs;
    cpuFreeAtMs = Math.max(now, cpuFreeAtMs) + durationMs;
    events.push(cpuFreeAtMs, CPU_DONE, request, attempt, outcome);
  };

  const succeed = (request: number, attempt: number, now: number): void => {
    awaiting[request] = 0;
    latencyMs[request] = now - firstSentAtMs[request]!;
    runOnCpu(now, cpuMsForResponse(bodyBytesOf[request]!), request, attempt, SUCCESS);
  };

  const fail = (request: number, attempt: number, kind: FailureKind, now: number, waitMs: number): void => {
    awaiting[request] = 0;
    latencyMs[request] = now - firstSentAtMs[request]!;
    if (kind === HTTP_5XX) errorsByKind.http5xx++;
    else if (kind === HTTP_429) errorsByKind.http429++;
    else if (kind === TIMEOUT) errorsByKind.timeout++;
    else errorsByKind.reset++;
    waitAfterFailureMs[request] = waitMs;
    runOnCpu(now, cpuMsPerFailure, request, attempt, kind);
  };

  const backoffMsAfter = (attempt: number): number => backoffMs * 2 ** attempt;

  const beginService = (host: HostState, request: number, attempt: number, serviceMs: number, fault: number, now: number): void => {
    host.inService++;
    const endMs = now + serviceMs;
    if (fault !== FAULT_TIMEOUT && awaiting[request] === 1 && attemptOf[request] === attempt) answerAtMs[request] = endMs;
    events.push(endMs, SERVICE_END, request, attempt, fault);
  };

  const send = (request: number, attempt: number, now: number): void => {
    attemptOf[request] = attempt;
    awaiting[request] = 1;
    answerAtMs[request] = Number.POSITIVE_INFINITY;
    if (attempt > 0) retries++;
    const draw = drawAttempt(scenario, plan[request]!.host, request, attempt);
    bodyBytesOf[request] = draw.bodyBytes;
    const host = hostOf[request]!;

    if (host.rps > 0) {
      host.tokens = Math.min(host.burst, host.tokens + ((now - host.refilledAtMs) * host.rps) / 1000);
      host.refilledAtMs = now;
      if (host.tokens < 1 - TOKEN_EPSILON) {
        const untilTokenMs = ((1 - host.tokens) * 1000) / host.rps;
        fail(request, attempt, HTTP_429, now, statedRetryAfterMs(untilTokenMs, host.retryAfter));
        return;
      }
      host.tokens = Math.max(0, host.tokens - 1);
    }

    const fault = FAULT_CODE[draw.fault];
    if (host.inService < host.capacity) {
      beginService(host, request, attempt, draw.latencyMs, fault, now);
      // Most attempts are answered in time: they need no timeout event.
      if (answerAtMs[request]! <= now + timeoutMs) return;
    } else {
      host.queue.push({ request, attempt, latencyMs: draw.latencyMs, fault });
    }
    events.push(now + timeoutMs, CLIENT_TIMEOUT, request, attempt, 0);
  };

  const startRequest = (request: number, now: number): void => {
    firstSentAtMs[request] = now;
    send(request, 0, now);
  };

  const endService = (request: number, attempt: number, fault: number, now: number): void => {
    const host = hostOf[request]!;
    host.inService--;
    if (host.queueHead < host.queue.length) {
      const next = host.queue[host.queueHead++]!;
      beginService(host, next.request, next.attempt, next.latencyMs, next.fault, now);
    }
    // The server does not notice that a client gave up: it serves the attempt, nobody listens.
    if (awaiting[request] !== 1 || attemptOf[request] !== attempt) return;
    if (fault === FAULT_NONE) succeed(request, attempt, now);
    else if (fault === FAULT_ERROR) fail(request, attempt, HTTP_5XX, now, backoffMsAfter(attempt));
    else if (fault !== FAULT_TIMEOUT) fail(request, attempt, RESET, now, backoffMsAfter(attempt));
    // FAULT_TIMEOUT: nothing is sent; the client's own timer ends the attempt.
  };

  const endSinkWrite = (waiter: number, rows: number, now: number): void => {
    rowsWritten += rows;
    if (sinkQueueHead < sinkQueue.length) {
      const next = sinkQueue[sinkQueueHead++]!;
      events.push(now + next.latencyMs, SINK_DONE, next.waiter, next.batch, next.rows);
    } else {
      freeConnections++;
    }
    if (waiter >= 0) taskDone(now);
    else finish(now);
  };

  // The workers take the first requests in plan order, all at time 0.
  const initialWorkers = Math.min(options.concurrency, n);
  while (nextRequest < initialWorkers) startRequest(nextRequest++, 0);

  while (!finished) {
    const event = events.pop();
    if (!event) throw new Error('simulation stalled: no event left before every request finished');
    const now = event.timeMs;
    switch (event.kind) {
      case SEND:
        send(event.request, event.attempt, now);
        break;
      case SERVICE_END:
        endService(event.request, event.attempt, event.value, now);
        break;
      case CLIENT_TIMEOUT: {
        const request = event.request;
        // An answer due exactly at the deadline counts as in time ("within timeoutMs").
        if (awaiting[request] === 1 && attemptOf[request] === event.attempt && answerAtMs[request]! > now) {
          fail(request, event.attempt, TIMEOUT, now, backoffMsAfter(event.attempt));
        }
        break;
      }
      case CPU_DONE:
        afterCpu(event.request, event.attempt, event.value, now);
        break;
      case SINK_DONE:
        endSinkWrite(event.request, event.value, now);
        break;
    }
  }

  return {
    makespanMs,
    requests: n,
    errors,
    retries,
    errorsByKind,
    requestLatencyMs: Array.from(latencyMs),
    cpuBusyMs,
    rowsWritten,
  };
}
