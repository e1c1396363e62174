import { describe, expect, it } from 'vitest';
import {
  fitConnectToCpu,
  fitParseCost,
  meanBodyBytes,
  modelCell,
  NO_PARSE,
  cpuToModel,
  overheadMsPerAttempt,
  replayCpuShare,
  replayCpuThrottle,
  responseCpuMs,
  serverCpuSplit,
  simulateWithCpu,
} from '../harness/model/calibrate.ts';
import { ReplayServer, MOCK_SPAN_LIMIT_MS } from '../harness/mock/replay-server.ts';
import { fixed, modelScenario } from './helpers/scenario-files.ts';

/** Four requests of 100 ms to one host, an instant sink: only the CPU adds to the latencies. */
const fourSerial = modelScenario({
  requests: [{ host: 'a.example', count: 4 }],
  hosts: { 'a.example': { latencyMs: fixed(100), bodyBytes: fixed(1000) } },
});

describe('the CPU model of the simulator', () => {
  it('fits the parse cost as a line through the timed sizes', () => {
    const line = fitParseCost([
      { bodyBytes: 1000, ms: 0.3 },
      { bodyBytes: 3000, ms: 0.7 },
    ]);
    expect(line.fixedMs).toBeCloseTo(0.1, 12);
    expect(line.msPerByte).toBeCloseTo(0.0002, 15);
    expect(fitParseCost([{ bodyBytes: 500, ms: 0.2 }])).toEqual({ fixedMs: 0.2, msPerByte: 0 });
    // Timer noise that makes bigger bodies look cheaper does not give a negative slope.
    expect(
      fitParseCost([
        { bodyBytes: 1000, ms: 0.5 },
        { bodyBytes: 2000, ms: 0.4 },
      ]),
    ).toEqual({ fixedMs: 0.45, msPerByte: 0 });
    expect(fitParseCost([])).toEqual(NO_PARSE);
  });

  it('charges a response its overhead plus the parse of its body', () => {
    expect(responseCpuMs({ overheadMs: 0.05, parse: { fixedMs: 0.1, msPerByte: 0.0002 } }, 2000)).toBeCloseTo(0.55, 12);
  });

  it('spreads what is left of the CPU time after the parses over the attempts', () => {
    const rep = { cpuMs: 50, mockCpuMs: 10, requests: 8, retries: 2, errors: 1 };
    // 7 successes parse 2 ms each: (50 - 14) / 10 attempts with the mock, (50 - 10 - 14) / 10 without.
    expect(overheadMsPerAttempt(rep, 2, true)).toBeCloseTo(3.6, 12);
    expect(overheadMsPerAttempt(rep, 2, false)).toBeCloseTo(2.6, 12);
    expect(overheadMsPerAttempt({ ...rep, cpuMs: 1 }, 2, true)).toBe(0);
  });

  it('takes the mean body size over the pages the job fetches', () => {
    expect(meanBodyBytes(fourSerial)).toBe(1000);
  });

  it('gives a time-scaled replay S times less CPU, unless a quota grew with the scale', () => {
    expect(replayCpuShare({ memoryMb: 1769, timeScale: 1, throttled: false, cores: 2 })).toBe(1);
    expect(replayCpuShare({ memoryMb: 1769, timeScale: 4, throttled: false, cores: 2 })).toBe(0.25);
    // 442.25 MB is a quarter core; a quota of 4 x that is one core, which the scale divides back.
    expect(replayCpuShare({ memoryMb: 442.25, timeScale: 4, throttled: true, cores: 2 })).toBe(0.25);
    expect(replayCpuShare({ memoryMb: 442.25, timeScale: 1, throttled: true, cores: 2 })).toBe(0.25);
    // One thread cannot use the second core: 3538 MB x 4 still gives the event loop one core.
    expect(replayCpuShare({ memoryMb: 3538, timeScale: 4, throttled: true, cores: 2 })).toBe(0.25);
  });

  it("throttles a replay in its quota's periods unless one thread has a whole core", () => {
    // Real time: Lambda's 20 ms periods at full speed.
    expect(replayCpuThrottle({ memoryMb: 128, timeScale: 1, throttled: true, cores: 2 })).toEqual({ periodMs: 20, fullSpeed: 1 });
    // 442.25 MB at time scale 2: half a core, in 10 ms periods, 20 ms of scenario time, at 1/2 speed.
    expect(replayCpuThrottle({ memoryMb: 442.25, timeScale: 2, throttled: true, cores: 2 })).toEqual({ periodMs: 20, fullSpeed: 0.5 });
    // 128 MB at time scale 4: 0.29 of a core; its 10 ms period holds 2.9 ms, above the kernel's 1 ms.
    expect(replayCpuThrottle({ memoryMb: 128, timeScale: 4, throttled: true, cores: 2 })).toEqual({ periodMs: 40, fullSpeed: 0.25 });
    // 128 MB at time scale 1.25: a quota of 0.09 core needs a period of 1 / 0.09 = 11.06 ms for 1 ms.
    expect(replayCpuThrottle({ memoryMb: 128, timeScale: 1.25, throttled: true, cores: 2 })!.periodMs).toBeCloseTo((1769 / 128 / 1.25) * 1.25, 9);
    // A whole core (442.25 MB x 4) or no quota: an even share, no period.
    expect(replayCpuThrottle({ memoryMb: 442.25, timeScale: 4, throttled: true, cores: 2 })).toBeUndefined();
    expect(replayCpuThrottle({ memoryMb: 128, timeScale: 4, throttled: false, cores: 2 })).toBeUndefined();
  });

  it('simulates a time-scaled replay at 128 MB as its quota ran it: 2 ms bursts at full speed, not stretched', () => {
    // Time scale 4: 0.29 of a core in 10 ms periods, so 40 ms periods of 2.9 ms of work at a
    // quarter of a core in scenario time. Each answer's 2 ms of work takes 8 ms: r0 100..108, r1
    // 208..216, r2 316..324 (half its work before its period ends at 320, half after),
    // r3 424..432. An even share of 0.072 would stretch each to 27.6 ms: 510.6.
    const reps = [{ cpuMs: 8, mockCpuMs: 0, requests: 4, retries: 0, errors: 0 }];
    const replay = { timeScale: 4, throttled: true, cores: 2 };
    expect(modelCell(fourSerial, { concurrency: 1, memoryMb: 128, reps }, replay, NO_PARSE).simulatedMs).toBeCloseTo(432, 9);
  });

  it("adds each response's CPU at the given share to a serial run", () => {
    const model = { overheadMs: 10, parse: NO_PARSE };
    expect(simulateWithCpu(fourSerial, { concurrency: 1, cpuShare: 1, model }).makespanMs).toBe(440);
    expect(simulateWithCpu(fourSerial, { concurrency: 1, cpuShare: 0.5, model }).makespanMs).toBe(480);
  });
});

describe("the CPU time the simulator's event loop accounts for", () => {
  const rep = { cpuMs: 300, loopCpuMs: 200, mockCpuMs: 0, requests: 1, retries: 0, errors: 0 };

  it("takes the loop's own time beside a second core, and all of it where the loop's was not measured", () => {
    expect(cpuToModel(rep, 2, 1000)).toBe(200);
    expect(cpuToModel({ ...rep, loopCpuMs: undefined }, 1, 1000)).toBe(300);
    expect(cpuToModel(rep, 1)).toBe(300);
  });

  it("counts the helper threads' time within one core in the share of the quota the process used", () => {
    // 300 ms over 1000 ms of a whole core: 30% used, so 30 of the helpers' 100 ms count.
    expect(cpuToModel(rep, 1, 1000)).toBe(230);
    // A quota of half a core over 600 ms: used in full, all of it counts.
    expect(cpuToModel(rep, 0.5, 600)).toBe(300);
  });
});

describe('modelling a measured cell', () => {
  const reps = [{ cpuMs: 40, mockCpuMs: 20, requests: 4, retries: 0, errors: 0 }];

  it("simulates the replay as it ran, and projects production without the mock's CPU", () => {
    const model = modelCell(fourSerial, { concurrency: 1, memoryMb: 1769, reps }, { timeScale: 1, throttled: false, cores: 2 }, NO_PARSE);
    // 10 ms per response with the mock, 5 ms without: 4 x (100 + 10) and 4 x (100 + 5).
    expect(model).toEqual({ simulatedMs: 440, timeScaleCorrectionMs: 0, projectedMs: 420, overheadMs: { withMock: 10, clientOnly: 5 } });
  });

  it('estimates what time scaling added: CPU at a quarter of the share makes each response 40 ms', () => {
    const model = modelCell(fourSerial, { concurrency: 1, memoryMb: 1769, reps }, { timeScale: 4, throttled: false, cores: 2 }, NO_PARSE);
    expect(model.simulatedMs).toBe(560);
    expect(model.timeScaleCorrectionMs).toBe(120);
    expect(model.projectedMs).toBe(420);
  });
});

describe('modelling a cell whose servers ran in a process of their own (net)', () => {
  // 8 ms of the servers' CPU over 4 attempts: 2 ms each, read one after another.
  const reps = [{ cpuMs: 40, mockCpuMs: 20, requests: 4, retries: 0, errors: 0, serverCpuMs: 8 }];

  it("adds the servers' time to the replay as it ran, and leaves production without it", () => {
    // As run: 4 x (2 + 100 + 10). Production: 4 x (100 + 5), as without the servers.
    const model = modelCell(fourSerial, { concurrency: 1, memoryMb: 1769, reps }, { timeScale: 1, throttled: false, cores: 2 }, NO_PARSE);
    expect(model).toEqual({ simulatedMs: 448, timeScaleCorrectionMs: 0, projectedMs: 420, overheadMs: { withMock: 10, clientOnly: 5 } });
  });

  it("counts the servers' real time stretched by the time scale in what scaling added", () => {
    // Time scale 4: the servers' 2 ms look 8, the client's 10 ms of CPU 40: 4 x (8 + 100 + 40) = 592,
    // against 4 x (2 + 100 + 10) = 448 at time scale 1.
    const model = modelCell(fourSerial, { concurrency: 1, memoryMb: 1769, reps }, { timeScale: 4, throttled: false, cores: 2 }, NO_PARSE);
    expect(model.simulatedMs).toBe(592);
    expect(model.timeScaleCorrectionMs).toBe(144);
    expect(model.projectedMs).toBe(420);
  });

  it("adds the replay's timer lateness to its waits, stretched by the time scale, and leaves production without it", () => {
    // The hosts' timers fired 0.5 ms late (the median of 0.25, 0.5 and 2), the sink's 0.25 ms.
    // Time scale 4: each latency 2 ms longer, each write of 10 ms 1 ms longer: 4 x (8 + 102 + 40 + 11)
    // = 644, against 4 x (2 + 100.5 + 10 + 10.25) = 491 at time scale 1. Production: 4 x (100 + 5 + 10).
    const written = modelScenario({
      requests: [{ host: 'a.example', count: 4 }],
      hosts: { 'a.example': { latencyMs: fixed(100) } },
      sink: { latencyMs: fixed(10), poolSize: 1, batchSize: 1 },
    });
    const late = [0.25, 0.5, 2].map((latencyTimerLateMs) => ({ ...reps[0]!, latencyTimerLateMs }));
    const model = modelCell(
      written,
      { concurrency: 1, memoryMb: 1769, reps: late },
      { timeScale: 4, throttled: false, cores: 2, sinkTimerLateMs: 0.25 },
      NO_PARSE,
    );
    expect(model.simulatedMs).toBe(644);
    expect(model.timeScaleCorrectionMs).toBe(644 - 491);
    expect(model.projectedMs).toBe(460);
  });

  it("lets idle connections expire when the replay's did, in real time", () => {
    // https with 10 ms round trips, one worker: a (20 + 100), b (20 + 4000), a again. Its connection
    // idled 4020 ms: past a 3000 ms timeout it needs a new one (20 ms more); production (5000 ms) reuses it.
    const gap = modelScenario({
      requests: [{ url: 'https://a.example/1' }, { url: 'https://b.example/1' }, { url: 'https://a.example/2' }],
      hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10 }, 'b.example': { latencyMs: fixed(4000), rttMs: 10 } },
    });
    const idle = [{ cpuMs: 0, mockCpuMs: 0, requests: 3, retries: 0, errors: 0, connectionsOpened: 3 }];
    const replay = { timeScale: 1, throttled: false, cores: 2 };
    expect(
      modelCell(gap, { concurrency: 1, memoryMb: 1769, reps: idle }, { ...replay, idleTimeoutMs: 3000 }, NO_PARSE, { connectCpuMs: 0, openCpuMs: 0 })
        .simulatedMs,
    ).toBe(4260);
    expect(
      modelCell(gap, { concurrency: 1, memoryMb: 1769, reps: idle }, { ...replay, idleTimeoutMs: 3000 }, NO_PARSE, { connectCpuMs: 0, openCpuMs: 0 })
        .projectedMs,
    ).toBe(4240);
    expect(modelCell(gap, { concurrency: 1, memoryMb: 1769, reps: idle }, replay, NO_PARSE, { connectCpuMs: 0, openCpuMs: 0 }).simulatedMs).toBe(4240);
  });

  it("takes the median over the repetitions of the servers' CPU per attempt, retries counted", () => {
    const rep = (serverCpuMs: number | undefined, retries = 0) => ({
      cpuMs: 1,
      mockCpuMs: 0,
      requests: 4,
      retries,
      errors: 0,
      ...(serverCpuMs === undefined ? {} : { serverCpuMs }),
    });
    expect(serverCpuSplit([rep(8), rep(12, 2), rep(40)]).perAttemptMs).toBe(2);
    expect(serverCpuSplit([rep(undefined)]).perAttemptMs).toBe(0);
  });

  it("splits the servers' CPU between the connections they accepted and the attempts they read", () => {
    const rep = { cpuMs: 1, mockCpuMs: 0, requests: 18, retries: 2, errors: 0, connectionsOpened: 10, serverCpuMs: 100 };
    // 10 connections at 4 ms: (100 - 40) / 20 attempts.
    expect(serverCpuSplit([rep], 4)).toEqual({ perConnectionMs: 4, perAttemptMs: 3 });
    // 10 connections at 20 ms would need 200 ms: fitted down to 10, nothing left for the attempts.
    expect(serverCpuSplit([rep], 20)).toEqual({ perConnectionMs: 10, perAttemptMs: 0 });
    // Not measured: all of it per attempt, as before.
    expect(serverCpuSplit([rep])).toEqual({ perConnectionMs: 0, perAttemptMs: 5 });
  });
});

describe('modelling a cell that opened real connections', () => {
  // Four 100 ms requests over https with a 10 ms round trip: a new connection waits 20 ms.
  const overHttps = modelScenario({
    requests: [{ host: 'a.example', count: 4 }],
    hosts: { 'a.example': { latencyMs: fixed(100), bodyBytes: fixed(1000), rttMs: 10 } },
  });
  const replay = { timeScale: 1, throttled: false, cores: 2 };

  it("takes the connections' setup out of the overhead per attempt", () => {
    // 7 successes parse 2 ms, 4 connections cost 1.5 ms: (50 - 14 - 6) / 10 attempts with the mock, 10 less without.
    const rep = { cpuMs: 50, mockCpuMs: 10, requests: 8, retries: 2, errors: 1, connectionsOpened: 4 };
    expect(overheadMsPerAttempt(rep, 2, true, rep.cpuMs, 1.5)).toBeCloseTo(3, 12);
    expect(overheadMsPerAttempt(rep, 2, false, rep.cpuMs, 1.5)).toBeCloseTo(2, 12);
  });

  it("simulates the connections' CPU where the repetitions counted them", () => {
    const reps = [{ cpuMs: 40, mockCpuMs: 20, requests: 4, retries: 0, errors: 0, connectionsOpened: 2 }];
    const model = modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, { connectCpuMs: 5, openCpuMs: 0 });
    // Overhead (40 - 2 x 5) / 4 = 7.5 with the mock, (40 - 20 - 10) / 4 = 2.5 without.
    // As run: r0, r1 connect 0..20, their CPU 20..25 and 25..30, served 25..125 and 30..130;
    // overheads 125..132.5 and 132.5..140; r2 (132.5) and r3 (140) reuse the connections, answered
    // at 232.5 and 240, overheads 232.5..240 and 240..247.5.
    // Production: served 25..125 and 30..130, overheads to 127.5 and 132.5; r2 127.5..227.5 (to
    // 230), r3 132.5..232.5 (to 235).
    expect(model).toEqual({ simulatedMs: 247.5, timeScaleCorrectionMs: 0, projectedMs: 235, overheadMs: { withMock: 7.5, clientOnly: 2.5 } });
  });

  it('opens each connection with its measured share of the connection CPU, fitted down with the rest', () => {
    const reps = [{ cpuMs: 40, mockCpuMs: 20, requests: 4, retries: 0, errors: 0, connectionsOpened: 2 }];
    // 1 of the 5 ms opens the connection: r0 opens 0..1, r1 1..2; the rest 20..24 and 24..28; served
    // 24..124 and 28..128; overheads 124..131.5 and 131.5..139; r2 and r3 reuse, answered 231.5 and
    // 239, overheads to 239 and 246.5. The overhead is the same as with all 5 ms after the round trips.
    const model = modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, { connectCpuMs: 5, openCpuMs: 1 });
    expect(model.simulatedMs).toBe(246.5);
    expect(model.overheadMs).toEqual({ withMock: 7.5, clientOnly: 2.5 });
    // 2 connections of 30 ms cannot fit in 40 ms of CPU: fitted to 20 each, the opening to 20 x 10 / 30.
    const tight = modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, { connectCpuMs: 30, openCpuMs: 10 });
    // Opens 0..6.67 and 6.67..13.33; the rest 20..33.33 and 33.33..46.67; served to 133.33 and 146.67;
    // overhead 0; r2 and r3 at 233.33 and 246.67.
    expect(tight.simulatedMs).toBeCloseTo(246.67, 2);
  });

  it('has the servers accept each new connection, on the loop that reads the attempts, where they were measured', () => {
    // 60 ms of server CPU: 2 connections at 10 ms, (60 - 20) / 4 = 10 per attempt. No client CPU.
    // As run: TCP done at 10; handshakes 10..20 and 20..30; TLS's round trip: connected at 30 and
    // 40; read 30..40 and 40..50, served to 140 and 150; r2 and r3 reuse the connections, read
    // 140..150 and 150..160, answered at 250 and 260.
    const reps = [{ cpuMs: 0, mockCpuMs: 0, requests: 4, retries: 0, errors: 0, connectionsOpened: 2, serverCpuMs: 60 }];
    const measured = { connectCpuMs: 0, openCpuMs: 0, serverCpuMs: 10 };
    expect(modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, measured).simulatedMs).toBe(260);
    // Not measured: 15 ms per attempt. Connected at 20, read 20..35 and 35..50, answered at 135
    // and 150; r2 read 135..150, r3 150..165: answered at 250 and 265.
    expect(modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, { connectCpuMs: 0, openCpuMs: 0 }).simulatedMs).toBe(265);
    // Production has no such servers: 20 + 100 + 100.
    expect(modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, measured).projectedMs).toBe(220);
  });

  it('leaves a cell that counted no connections as it was, connectCpuMs or not', () => {
    const reps = [{ cpuMs: 40, mockCpuMs: 20, requests: 4, retries: 0, errors: 0 }];
    // Overheads 10 and 5. As run: served 20..120 twice, overheads 120..130 and 130..140; r2
    // 130..230 (CPU to 240), r3 140..240 (CPU to 250). Production: 120..125, 125..130; r2
    // 125..225 (to 230), r3 130..230 (to 235).
    const expected = { simulatedMs: 250, timeScaleCorrectionMs: 0, projectedMs: 235, overheadMs: { withMock: 10, clientOnly: 5 } };
    expect(modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE, { connectCpuMs: 5, openCpuMs: 0 })).toEqual(expected);
    expect(modelCell(overHttps, { concurrency: 2, memoryMb: 1769, reps }, replay, NO_PARSE)).toEqual(expected);
  });

  it('scales a connection cost down that alone would exceed the CPU the repetition spent', () => {
    expect(fitConnectToCpu(5, { cpuMs: 40, connections: 4 })).toBe(5);
    expect(fitConnectToCpu(5, { cpuMs: 10, connections: 4 })).toBe(2.5);
    expect(fitConnectToCpu(5, { cpuMs: 10, connections: 0 })).toBe(5);
  });
});

describe("the mock's own CPU time", () => {
  it("adds up the spans of the mock's work and leaves out spans a descheduled process stretched", () => {
    const server = new ReplayServer(fourSerial, 1);
    server.chargeCpu(0.25);
    server.chargeCpu(0.5);
    server.chargeCpu(MOCK_SPAN_LIMIT_MS + 1);
    expect(server.mockCpuMs()).toBe(0.75);
    server.beginInvocation();
    expect(server.mockCpuMs()).toBe(0);
  });
});
