import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { singleThreadShare } from '../harness/model/lambda.ts';
import { idealMakespanMs, simulate } from '../harness/model/simulate.ts';
import { drawAttempt, drawSinkLatency, planRequests } from '../harness/scenario/plan.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { fixed, modelScenario } from './helpers/scenario-files.ts';

/** A scenario with a free, instant sink unless the test says otherwise: only the hosts matter. */
const scenario = modelScenario;

/** Three hosts with fixed latencies of 100, 200 and 300 ms, one request each. */
const threeLatencies = scenario({
  requests: [
    { host: 'a.example', count: 1 },
    { host: 'b.example', count: 1 },
    { host: 'c.example', count: 1 },
  ],
  hosts: {
    'a.example': { latencyMs: fixed(100) },
    'b.example': { latencyMs: fixed(200) },
    'c.example': { latencyMs: fixed(300) },
  },
});

describe('simulate: workers and hosts', () => {
  it('runs requests one after the other at concurrency 1, so the makespan is the sum of latencies', () => {
    const result = simulate(threeLatencies, { concurrency: 1 });
    expect(result.makespanMs).toBe(600);
    expect(result.requestLatencyMs).toEqual([100, 200, 300]);
    expect(result.rowsWritten).toBe(3);
  });

  it('runs every request at once when concurrency is at least N, so the makespan is the longest latency', () => {
    expect(simulate(threeLatencies, { concurrency: 3 }).makespanMs).toBe(300);
    expect(simulate(threeLatencies, { concurrency: 50 }).makespanMs).toBe(300);
  });

  it('gives a freed worker the next request in plan order', () => {
    // Worker 1 takes a (100) then c (300) -> 400; worker 2 takes b (200) -> 200.
    expect(simulate(threeLatencies, { concurrency: 2 }).makespanMs).toBe(400);
  });

  it('queues requests beyond the host capacity in FIFO order', () => {
    const capped = scenario({
      requests: [{ host: 'a.example', count: 6 }],
      hosts: { 'a.example': { latencyMs: fixed(100), capacity: 2 } },
    });
    const result = simulate(capped, { concurrency: 6 });
    expect(result.makespanMs).toBe(300);
    expect(result.requestLatencyMs).toEqual([100, 100, 200, 200, 300, 300]);
  });

  it('answers 429 once the burst is spent and lets the client retry after retry-after-ms', () => {
    // rps 10 = one token per 100 ms, burst 2. At 0: r0, r1 pass; r2, r3 get 429 retry-after 100.
    // At 100: one token again: r2 passes, r3 gets 429 retry-after 100; at 200 r3 passes.
    const limited = scenario({
      requests: [{ host: 'a.example', count: 4 }],
      hosts: { 'a.example': { latencyMs: fixed(10), rateLimit: { rps: 10, burst: 2 } } },
      client: { retries: 3 },
    });
    const result = simulate(limited, { concurrency: 4 });
    expect(result.makespanMs).toBe(210);
    expect(result.requestLatencyMs).toEqual([10, 10, 110, 210]);
    expect(result.errorsByKind.http429).toBe(3);
    expect(result.retries).toBe(3);
    expect(result.errors).toBe(0);
  });

  it('rounds retry-after up to the whole millisecond', () => {
    // rps 3: a token every 333.33 ms, so the 429 says 334 and the retry is served 334..344.
    const limited = scenario({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(10), rateLimit: { rps: 3, burst: 1 } } },
    });
    const result = simulate(limited, { concurrency: 2 });
    expect(result.requestLatencyMs).toEqual([10, 344]);
    expect(result.makespanMs).toBe(344);
  });

  it('fails a request for good when its 429s outlast the retries', () => {
    const limited = scenario({
      requests: [{ host: 'a.example', count: 4 }],
      hosts: { 'a.example': { latencyMs: fixed(10), rateLimit: { rps: 10, burst: 2 } } },
      client: { retries: 1 },
    });
    const result = simulate(limited, { concurrency: 4 });
    // r3's only retry, at 100, meets an empty bucket again (r2 took the token).
    expect(result.errors).toBe(1);
    expect(result.rowsWritten).toBe(3);
    expect(result.errorsByKind.http429).toBe(3);
    expect(result.makespanMs).toBe(110);
  });

  it('retries a 5xx after backoffMs and doubles the backoff on each retry', () => {
    // Seed 14 draws error, error, none for request 0 at errorRate 0.5.
    const flaky = scenario({
      seed: 14,
      hosts: { 'a.example': { latencyMs: fixed(50), errorRate: 0.5 } },
      client: { retries: 2, backoffMs: 100 },
    });
    expect([0, 1, 2].map((a) => drawAttempt(flaky, 'a.example', 0, a).fault)).toEqual(['error', 'error', 'none']);
    const result = simulate(flaky, { concurrency: 1 });
    // 0..50 503, wait 100, 150..200 503, wait 200, 400..450 200.
    expect(result.makespanMs).toBe(450);
    expect(result.errorsByKind.http5xx).toBe(2);
    expect(result.retries).toBe(2);
    expect(result.errors).toBe(0);
    expect(result.rowsWritten).toBe(1);
  });

  it('counts a request that fails every attempt once in errors and writes no row for it', () => {
    const broken = scenario({
      hosts: { 'a.example': { latencyMs: fixed(50), errorRate: 1 } },
      client: { retries: 1, backoffMs: 100 },
    });
    const result = simulate(broken, { concurrency: 1 });
    expect(result.makespanMs).toBe(200);
    expect(result.errors).toBe(1);
    expect(result.errorsByKind).toEqual({ http5xx: 2, http429: 0, timeout: 0, reset: 0, other: 0 });
    expect(result.rowsWritten).toBe(0);
    expect(result.requestLatencyMs).toEqual([200]);
  });

  it('treats a reset connection like a 5xx: retried after the backoff', () => {
    const resetting = scenario({
      hosts: { 'a.example': { latencyMs: fixed(50), resetRate: 1 } },
      client: { retries: 1, backoffMs: 30 },
    });
    const result = simulate(resetting, { concurrency: 1 });
    expect(result.makespanMs).toBe(130);
    expect(result.errorsByKind.reset).toBe(2);
  });

  it('gives up on an unanswered request timeoutMs after sending, then backs off and retries', () => {
    const silent = scenario({
      hosts: { 'a.example': { latencyMs: fixed(50), timeoutRate: 1 } },
      client: { timeoutMs: 300, retries: 1, backoffMs: 100 },
    });
    const result = simulate(silent, { concurrency: 1 });
    // 0..300 no answer, wait 100, 400..700 no answer.
    expect(result.makespanMs).toBe(700);
    expect(result.errorsByKind.timeout).toBe(2);
    expect(result.errors).toBe(1);
  });

  it('times out a request that waits too long in the host queue, and the server still serves it', () => {
    const twoOnOneSlot: Partial<ScenarioInput> = {
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(200), capacity: 1 } },
    };
    const slow = scenario({ ...twoOnOneSlot, client: { timeoutMs: 300, retries: 0 } });
    const once = simulate(slow, { concurrency: 2 });
    // r1 is served 200..400 but its client gave up at 300.
    expect(once.makespanMs).toBe(300);
    expect(once.errorsByKind.timeout).toBe(1);
    expect(once.rowsWritten).toBe(1);

    // Retried at 300, r1 waits behind its own abandoned attempt (200..400) and is served
    // 400..600: exactly at its deadline, which still counts as in time.
    const retried = simulate(scenario({ ...twoOnOneSlot, client: { timeoutMs: 300, retries: 1, backoffMs: 0 } }), {
      concurrency: 2,
    });
    expect(retried.makespanMs).toBe(600);
    expect(retried.errors).toBe(0);
    expect(retried.requestLatencyMs).toEqual([200, 600]);
  });
});

describe('simulate: the sink', () => {
  const fiveRows = (batchSize: number, poolSize: number) =>
    scenario({
      requests: [{ host: 'a.example', count: 5 }],
      hosts: { 'a.example': { latencyMs: fixed(100) } },
      sink: { latencyMs: fixed(30), poolSize, batchSize },
    });

  it('makes the worker that fills a batch wait for its write, queues writes for the pool, and flushes the rest at the end', () => {
    // All 5 rows at 100. r1 fills batch 0 (100..130), r3 fills batch 1 and waits for the one
    // connection (130..160); r4's row is flushed once every request is done (160..190).
    const result = simulate(fiveRows(2, 1), { concurrency: 5 });
    expect(result.makespanMs).toBe(190);
    expect(result.rowsWritten).toBe(5);
  });

  it('serialises fetches and writes at concurrency 1', () => {
    // r0 100; r1 200 + write 230; r2 330; r3 430 + write 460; r4 560; flush 560..590.
    expect(simulate(fiveRows(2, 1), { concurrency: 1 }).makespanMs).toBe(590);
  });

  it('writes batches in parallel up to the pool size', () => {
    // Batch 0 and 1 both 100..130, flush 130..160.
    expect(simulate(fiveRows(2, 2), { concurrency: 5 }).makespanMs).toBe(160);
  });

  it("adds the replay's timer lateness to each host latency and each write that waits, never below zero", () => {
    // Serial: 5 x (100 + 3) answered, 2 writes of 30 + 2 each and a flush of 32.
    expect(simulate(fiveRows(2, 1), { concurrency: 1, latencyTimerLateMs: 3, sinkTimerLateMs: 2 }).makespanMs).toBe(5 * 103 + 3 * 32);
    // Early timers shorten the waits; one earlier than its whole wait takes none.
    expect(simulate(fiveRows(2, 1), { concurrency: 1, latencyTimerLateMs: -10, sinkTimerLateMs: -40 }).makespanMs).toBe(5 * 90);
    expect(() => simulate(fiveRows(2, 1), { concurrency: 1, sinkTimerLateMs: Number.NaN })).toThrow(/sinkTimerLateMs/);
  });

  it('takes the n-th batch latency from drawSinkLatency in the order batches start', () => {
    const drawn = scenario({
      seed: 7,
      requests: [{ host: 'a.example', count: 3 }],
      sink: { latencyMs: { dist: 'uniform', min: 10, max: 50 }, poolSize: 1, batchSize: 1 },
    });
    const sinkMs = [0, 1, 2].map((n) => drawSinkLatency(drawn, n));
    expect(simulate(drawn, { concurrency: 1 }).makespanMs).toBeCloseTo(300 + sinkMs[0]! + sinkMs[1]! + sinkMs[2]!, 9);
  });
});

describe('simulate: the event-loop CPU', () => {
  const three = scenario({ requests: [{ host: 'a.example', count: 3 }] });

  it('runs response CPU work one at a time in arrival order before the row goes to the sink', () => {
    // Three responses at 100; the CPU works 100..120, 120..140, 140..160.
    const result = simulate(three, { concurrency: 3, cpuMsPerResponse: 20 });
    expect(result.makespanMs).toBe(160);
    expect(result.cpuWorkMs).toBe(60);
  });

  it('doubles the CPU time at a CPU share of 0.5', () => {
    const result = simulate(three, { concurrency: 3, cpuMsPerResponse: 20, cpuShare: 0.5 });
    expect(result.makespanMs).toBe(220);
    expect(result.cpuWorkMs).toBe(60);
  });

  it('lets a short burst through at full speed when throttled in periods, as Lambda does', () => {
    // One at a time: answers at 100, 202 and 304 (each 2 ms of CPU fits the period's 2 ms at a share of 0.1).
    const serial = simulate(three, { concurrency: 1, cpuMsPerResponse: 2, cpuShare: 0.1, cpuPeriodMs: 20 });
    expect(serial.makespanMs).toBe(306);
    expect(serial.cpuWorkMs).toBe(6);
    // At an even share each parse takes 20 ms.
    expect(simulate(three, { concurrency: 1, cpuMsPerResponse: 2, cpuShare: 0.1 }).makespanMs).toBe(360);
    // Three at once: 2 ms in the period from 100, 2 in that from 120, 2 in that from 140.
    expect(simulate(three, { concurrency: 3, cpuMsPerResponse: 2, cpuShare: 0.1, cpuPeriodMs: 20 }).makespanMs).toBe(142);
  });

  it('computes response CPU work from the body size when given a function', () => {
    const sized = scenario({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(100), bodyBytes: fixed(5000) } },
    });
    const result = simulate(sized, { concurrency: 1, cpuMsPerResponse: (bytes) => bytes / 1000 });
    expect(result.makespanMs).toBe(210);
    expect(result.cpuWorkMs).toBe(10);
  });

  it('spends cpuMsPerFailure on each failed attempt before the backoff starts', () => {
    const broken = scenario({
      hosts: { 'a.example': { latencyMs: fixed(50), errorRate: 1 } },
      client: { retries: 1, backoffMs: 100 },
    });
    // 0..50 503, CPU 50..60, wait to 160, 160..210 503, CPU 210..220.
    const result = simulate(broken, { concurrency: 1, cpuMsPerFailure: 10 });
    expect(result.makespanMs).toBe(220);
    expect(result.cpuWorkMs).toBe(20);
  });

  it("resumes a worker after its sink write only when the event loop is free, as the write's timer callback does", () => {
    const rows = (writeMs: number) => scenario({ requests: [{ host: 'a.example', count: 3 }], sink: { latencyMs: fixed(writeMs), poolSize: 2, batchSize: 1 } });
    // r0 and r1 answered at 100: CPU 100..130 and 130..160. r0's write 130..140 ends while r1's CPU
    // runs, so r0 takes r2 at 160: answered 260, CPU 260..290, written 290..300.
    expect(simulate(rows(10), { concurrency: 2, cpuMsPerResponse: 30 }).makespanMs).toBe(300);
    // An instant write sets no timer: r0 takes r2 at 130, answered 230, CPU 230..260.
    expect(simulate(rows(0), { concurrency: 2, cpuMsPerResponse: 30 }).makespanMs).toBe(260);
    // At concurrency 1 nothing else holds the loop: 3 x (100 + 30 + 10).
    expect(simulate(rows(10), { concurrency: 1, cpuMsPerResponse: 30 }).makespanMs).toBe(420);
  });

  it('resumes a retry after its wait only when the event loop is free', () => {
    const flaky = scenario({
      requests: [
        { host: 'a.example', count: 1 },
        { host: 'b.example', count: 1 },
      ],
      hosts: { 'a.example': { latencyMs: fixed(50), errorRate: 1 }, 'b.example': { latencyMs: fixed(55) } },
      client: { retries: 1, backoffMs: 10 },
    });
    // r0's 503 at 50, handled 50..51, wait to 61; r1's answer at 55 holds the CPU 55..85. The retry
    // goes at 85, its 503 at 135, handled to 136.
    expect(simulate(flaky, { concurrency: 2, cpuMsPerResponse: 30, cpuMsPerFailure: 1 }).makespanMs).toBe(136);
  });

  it('takes the CPU as free in the ideal makespan', () => {
    expect(idealMakespanMs(three, 3)).toBe(100);
  });
});

describe('simulate: draws and invariants', () => {
  const noisy = scenario({
    seed: 42,
    requests: [{ host: 'a.example', count: 40 }],
    hosts: {
      'a.example': {
        latencyMs: { dist: 'lognormal', median: 180, p99: 900 },
        errorRate: 0.2,
        resetRate: 0.05,
        timeoutRate: 0.05,
      },
    },
    client: { timeoutMs: 1000, retries: 2, backoffMs: 50 },
  });

  it('gives request i the same draws at every concurrency (common random numbers)', () => {
    // Without capacity or rate limits a request's life depends only on its own draws.
    const at1 = simulate(noisy, { concurrency: 1 });
    const at8 = simulate(noisy, { concurrency: 8 });
    const at64 = simulate(noisy, { concurrency: 64 });
    // Equal up to rounding: latencies are differences of absolute virtual times.
    const rounded = (xs: number[]) => xs.map((x) => Math.round(x * 1e6) / 1e6);
    expect(rounded(at8.requestLatencyMs)).toEqual(rounded(at1.requestLatencyMs));
    expect(rounded(at64.requestLatencyMs)).toEqual(rounded(at1.requestLatencyMs));
    expect(at8.errorsByKind).toEqual(at1.errorsByKind);
    expect(at64.errorsByKind).toEqual(at1.errorsByKind);
    expect(at64.makespanMs).toBeCloseTo(Math.max(...at1.requestLatencyMs), 6);
    // By hand from the draws: request 0 gets a 503 after 595 ms, backs off 50, then succeeds;
    // request 3's first attempt is never answered (timeout at 1000 ms); request 4's first
    // attempt takes 1746 ms, longer than the client waits.
    const draw = (i: number, a: number) => drawAttempt(noisy, 'a.example', i, a);
    expect([draw(0, 0).fault, draw(0, 1).fault, draw(3, 0).fault, draw(3, 1).fault, draw(4, 0).fault, draw(4, 1).fault]).toEqual([
      'error',
      'none',
      'timeout',
      'none',
      'none',
      'none',
    ]);
    expect(draw(4, 0).latencyMs).toBeGreaterThan(1000);
    expect(at8.requestLatencyMs[0]).toBeCloseTo(draw(0, 0).latencyMs + 50 + draw(0, 1).latencyMs, 9);
    expect(at8.requestLatencyMs[3]).toBeCloseTo(1000 + 50 + draw(3, 1).latencyMs, 9);
    expect(at8.requestLatencyMs[4]).toBeCloseTo(1000 + 50 + draw(4, 1).latencyMs, 9);
  });

  it('is deterministic: the same scenario and options give the same result', () => {
    expect(simulate(noisy, { concurrency: 5, cpuMsPerResponse: 3 })).toEqual(simulate(noisy, { concurrency: 5, cpuMsPerResponse: 3 }));
  });

  it('never beats the lower bound of the first attempts spread over c workers', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(10_000),
          count: fc.integer({ min: 1, max: 60 }),
          concurrency: fc.integer({ min: 1, max: 80 }),
          capacity: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
          errorRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
          timeoutRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
          batchSize: fc.integer({ min: 1, max: 5 }),
          cpuMs: fc.integer({ min: 0, max: 20 }),
        }),
        (p) => {
          const s = scenario({
            seed: p.seed,
            requests: [{ host: 'a.example', count: p.count }],
            hosts: {
              'a.example': {
                latencyMs: { dist: 'lognormal', median: 100, p99: 800 },
                ...(p.capacity !== undefined && { capacity: p.capacity }),
                errorRate: p.errorRate,
                timeoutRate: p.timeoutRate,
              },
            },
            sink: { latencyMs: fixed(5), poolSize: 2, batchSize: p.batchSize },
            client: { timeoutMs: 500, retries: 1, backoffMs: 20 },
          });
          const result = simulate(s, { concurrency: p.concurrency, cpuMsPerResponse: p.cpuMs });
          // Each worker is held at least until its request's first attempt ends or times out.
          const firstAttemptMs = planRequests(s).map((r) => Math.min(drawAttempt(s, r.host, r.index, 0).latencyMs, 500));
          const lowerBound = firstAttemptMs.reduce((a, b) => a + b, 0) / Math.min(p.concurrency, p.count);
          expect(result.makespanMs).toBeGreaterThanOrEqual(lowerBound - 1e-9);
          expect(result.makespanMs).toBeGreaterThanOrEqual(Math.max(...result.requestLatencyMs));
          expect(result.rowsWritten + result.errors).toBe(p.count);
        },
      ),
      { numRuns: 200, seed: 20_261_101 },
    );
  });

  it('never beats the ideal makespan when there are no faults to retry', () => {
    // With faults, CPU delays can turn a timeout into a faster retry (or the reverse), so the
    // ideal bounds only the fault-free job: FIFO queues are monotone in their arrival times.
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(10_000),
          count: fc.integer({ min: 1, max: 60 }),
          concurrency: fc.integer({ min: 1, max: 80 }),
          capacity: fc.integer({ min: 1, max: 10 }),
          cpuMs: fc.integer({ min: 0, max: 20 }),
          cpuShare: fc.double({ min: 0.07, max: 1, noNaN: true }),
        }),
        (p) => {
          const s = scenario({
            seed: p.seed,
            requests: [{ host: 'a.example', count: p.count }],
            hosts: { 'a.example': { latencyMs: { dist: 'lognormal', median: 100, p99: 800 }, capacity: p.capacity } },
            sink: { latencyMs: fixed(5), poolSize: 2, batchSize: 1 },
            client: { timeoutMs: 900_000 }, // the longest a scenario allows: no attempt here comes near it
          });
          const result = simulate(s, { concurrency: p.concurrency, cpuMsPerResponse: p.cpuMs, cpuShare: p.cpuShare });
          expect(result.makespanMs).toBeGreaterThanOrEqual(idealMakespanMs(s, p.concurrency) - 1e-9);
        },
      ),
      { numRuns: 100, seed: 20_261_102 },
    );
  });

  it('refuses a concurrency that is not a positive integer, naming the option', () => {
    expect(() => simulate(noisy, { concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
    expect(() => simulate(noisy, { concurrency: 1, cpuShare: 1.5 })).toThrow(/cpuShare must be in \(0, 1\]/);
  });
});

describe('simulate at the CPU share of each memory size', () => {
  it('slows the CPU by the single-thread share of the memory size, capped at one core', () => {
    const two = scenario({ requests: [{ host: 'a.example', count: 2 }] });
    const grid = [1, 2].flatMap((concurrency) => [1769, 3008, 884].map((memoryMb) => ({ concurrency, memoryMb })));
    const makespans = grid.map(
      ({ concurrency, memoryMb }) => simulate(two, { concurrency, cpuShare: singleThreadShare(memoryMb), cpuMsPerResponse: 10 }).makespanMs,
    );
    // c=1: 2 x (100 + 10 / share); c=2: both responses at 100, then 2 x 10 / share of CPU.
    expect(makespans).toEqual([220, 220, 200 + (2 * 10 * 1769) / 884, 120, 120, 100 + 10 / (884 / 1769) + 10 / (884 / 1769)]);
    // The ideal takes the CPU as infinitely fast: it does not depend on memory.
    expect([1, 2].map((concurrency) => idealMakespanMs(two, concurrency))).toEqual([200, 100]);
  });
});

describe('simulate: the requests a job was seen to make', () => {
  const seen = scenarioSchema.parse({
    name: 'seen',
    seed: 9,
    requests: [{ host: 'a.example', count: 6 }],
    hosts: { 'a.example': { latencyMs: { dist: 'uniform', min: 10, max: 90 } } },
    work: { parse: 'none' },
    sink: { latencyMs: { dist: 'fixed', value: 0 } },
  });
  const plan = planRequests(seen);

  it("gives exactly the scenario's own result when given its whole plan", () => {
    expect(simulate(seen, { concurrency: 2, requests: plan })).toEqual(simulate(seen, { concurrency: 2 }));
  });

  it("serves a subset in the order given, each request with its own index's draws", () => {
    const subset = [plan[4]!, plan[1]!];
    const latency = (index: number) => drawAttempt(seen, 'a.example', index, 0).latencyMs;
    // One worker: request 4, then request 1, each for its own drawn latency.
    expect(idealMakespanMs(seen, 1, subset)).toBeCloseTo(latency(4) + latency(1), 9);
    // Two workers: both at once, the slower bounds the run.
    expect(idealMakespanMs(seen, 2, subset)).toBeCloseTo(Math.max(latency(4), latency(1)), 9);
    expect(simulate(seen, { concurrency: 1, requests: subset }).requests).toBe(2);
  });

  it('finishes at once when the job made no request (a function whose warm-up requested nothing)', () => {
    expect(simulate(seen, { concurrency: 4, requests: [] })).toMatchObject({ makespanMs: 0, requests: 0, errors: 0, rowsWritten: 0 });
    expect(idealMakespanMs(seen, 4, [])).toBe(0);
  });
});
