import { median } from '../analyze/statistics.ts';
import { planRequests, drawAttempt, type PlannedRequest } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { cpuShare as memoryCpuShare, LAMBDA_THROTTLE_PERIOD_MS, quotaPeriod, singleThreadShare } from './lambda.ts';
import { simulate, type SimulationResult } from './simulate.ts';

/**
 * The job's CPU work as the simulator takes it, on one full core (docs/job-model.md, CPU): per
 * attempt that reaches the client, a client overhead (sending, receiving, timers, bookkeeping);
 * per successful response, a parse whose cost grows with the body. Pure functions: the numbers
 * come from measurements made elsewhere (harness/run/parse-cost.ts, a replay's CPU times).
 */
export interface ParseCost {
  /** ms per parsed body, whatever its size. */
  fixedMs: number;
  /** ms per byte of body. */
  msPerByte: number;
}

export interface CpuModel {
  /** ms of client overhead per attempt that reaches the client (success or failure). */
  overheadMs: number;
  parse: ParseCost;
  /** ms per new connection (TCP connect, TLS handshake), when the job really connects. */
  connectMs?: number;
  /** The part of connectMs spent opening the connection, before its round trips (ConnectCpu.openCpuMs). */
  connectOpenMs?: number;
  /** The part of connectMs spent on the hello, between the TCP connect and the server's answer (ConnectCpu.helloCpuMs). */
  connectHelloMs?: number;
}

/**
 * The client's CPU per new connection, as harness/run/connect-cost.ts measures it on a full core:
 * all of it, the part spent opening the connection (the socket, the start of the handshake)
 * before its first round trip, and the part spent on the TLS hello once the TCP connect is done;
 * and the servers' CPU per connection.
 */
export interface ConnectCpu {
  connectCpuMs: number;
  openCpuMs: number;
  /** 0 (or absent, in results written before it was measured) on plain HTTP. */
  helloCpuMs?: number;
  /** The servers' CPU per new connection (the accept, their half of the handshake), real ms; absent: not measured. */
  serverCpuMs?: number;
}

export const NO_PARSE: ParseCost = { fixedMs: 0, msPerByte: 0 };

export function parseMs(parse: ParseCost, bodyBytes: number): number {
  return parse.fixedMs + parse.msPerByte * bodyBytes;
}

/** The CPU work of one successful response. */
export function responseCpuMs(model: CpuModel, bodyBytes: number): number {
  return model.overheadMs + parseMs(model.parse, bodyBytes);
}

/**
 * Least-squares line through (body bytes, parse ms), clamped to non-negative coefficients: a
 * parse never gets cheaper with size, and timer noise must not make it so.
 */
export function fitParseCost(points: ReadonlyArray<{ bodyBytes: number; ms: number }>): ParseCost {
  if (points.length === 0) return NO_PARSE;
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.bodyBytes, 0) / n;
  const meanY = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.bodyBytes - meanX) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.bodyBytes - meanX) * (p.ms - meanY), 0);
  if (sxx === 0) return { fixedMs: Math.max(0, meanY), msPerByte: 0 };
  const msPerByte = Math.max(0, sxy / sxx);
  return { fixedMs: Math.max(0, meanY - msPerByte * meanX), msPerByte };
}

/** Mean size of the bodies the job fetches (each page once). */
export function meanBodyBytes(scenario: Scenario): number {
  const plan = planRequests(scenario);
  if (plan.length === 0) return 0;
  return plan.reduce((sum, r) => sum + drawAttempt(scenario, r.host, r.index, 0).bodyBytes, 0) / plan.length;
}

/** What one repetition of a replay measured, as far as CPU goes. */
export interface RepCpu {
  /** Every thread of the process. */
  cpuMs: number;
  /** The event-loop thread alone, when measured. */
  loopCpuMs?: number;
  /** The mock's own share of cpuMs (0 if it was not measured). */
  mockCpuMs: number;
  requests: number;
  retries: number;
  errors: number;
  /** Connections the hosts accepted, when the replay served over real connections. */
  connectionsOpened?: number;
  /** CPU time of the replay's servers over the repetition, when they ran in a process of their own (net). */
  serverCpuMs?: number;
  /** How late the hosts' latency timers fired, real ms on average (the servers' loop's own delays included). */
  latencyTimerLateMs?: number;
  /** The repetition's duration as measured, scenario ms: its real wall time is this over the time scale. */
  durationMs?: number;
}

/**
 * The client overhead per attempt that explains a repetition's CPU time: what is left of it once
 * the parses, the connections' setup (when the repetition counted its connections) and, unless
 * `withMock`, the mock's own work are taken out, spread over the attempts. Never negative.
 * `cpuMs` is the CPU time to explain (every thread's, or the loop's).
 */
export function overheadMsPerAttempt(rep: RepCpu, parseMsPerSuccess: number, withMock: boolean, cpuMs: number = rep.cpuMs, connectCpuMs = 0): number {
  const attempts = rep.requests + rep.retries;
  if (attempts === 0) return 0;
  const successes = Math.max(0, rep.requests - rep.errors);
  const connecting = (rep.connectionsOpened ?? 0) * connectCpuMs;
  const spent = cpuMs - (withMock ? 0 : rep.mockCpuMs) - successes * parseMsPerSuccess - connecting;
  return Math.max(0, spent / attempts);
}

/**
 * The CPU time the simulator's one event-loop CPU must account for, given the cores the process
 * may use and, where known, the repetition's real wall time. With more than a core V8's helper
 * threads (concurrent GC) run beside the loop: only the loop's own time counts. Within one core
 * they draw on the same quota as the loop, which slows the loop only when the quota runs out:
 * their time counts in the share of the quota the process used (all of it without a wall time).
 * Measured on the seed's default sweep (msw, 3 repetitions, two cells at once with a core each),
 * counting all of it put the simulator 1.4% to 3.9% behind the replay at 1 and 2 workers; in
 * proportion, 0.6% to 1.6% (mean error 0.21%, sd 0.72%, against 0.62% and 1.11%).
 */
export function cpuToModel(rep: RepCpu, cores: number, wallMs?: number): number {
  if (rep.loopCpuMs === undefined) return rep.cpuMs;
  if (cores > 1) return rep.loopCpuMs;
  if (wallMs === undefined || !(wallMs > 0)) return rep.cpuMs;
  // The helpers' time comes out of the loop's only while the quota is used up: counted in the
  // proportion of it the process used over the repetition. A serial job that leaves 80% of its
  // quota idle loses little of its loop's time to them; a busy one, nearly all of it.
  const used = Math.min(1, rep.cpuMs / (cores * wallMs));
  return rep.loopCpuMs + (rep.cpuMs - rep.loopCpuMs) * used;
}

/**
 * The parse as it can have been: timed in isolation it may come out dearer than what a busy
 * repetition spent in all. Scaled down so that the parses alone never exceed the CPU time the
 * repetition has to spend on them.
 */
export function fitParseToCpu(parse: ParseCost, parseMsPerSuccess: number, available: { cpuMs: number; successes: number }): ParseCost {
  const needed = parseMsPerSuccess * available.successes;
  if (needed <= available.cpuMs || needed === 0) return parse;
  const factor = Math.max(0, available.cpuMs) / needed;
  return { fixedMs: parse.fixedMs * factor, msPerByte: parse.msPerByte * factor };
}

/**
 * The connection setup as it can have been: like the parse (fitParseToCpu), timed in isolation it
 * may come out dearer than all the CPU a repetition spent; scaled down so the connections alone
 * never exceed it.
 */
export function fitConnectToCpu(connectMs: number, available: { cpuMs: number; connections: number }): number {
  const needed = connectMs * available.connections;
  if (needed <= available.cpuMs || needed === 0) return connectMs;
  return (connectMs * Math.max(0, available.cpuMs)) / needed;
}

/** The simulator with a CPU model, at a CPU share of one core (memory/1769, capped at 1). */
export function simulateWithCpu(
  scenario: Scenario,
  options: {
    concurrency: number;
    cpuShare: number;
    /** Throttled in periods (harness/model/cpu-throttle.ts); absent, at an even share. */
    cpuPeriodMs?: number;
    /** With cpuPeriodMs: the loop's speed while a period's quota lasts (SimulationOptions.cpuFullSpeed). */
    cpuFullSpeed?: number;
    model: CpuModel;
    requests?: readonly PlannedRequest[];
    serverMsPerAttempt?: number;
    serverConnectMs?: number;
    idleTimeoutMs?: number;
    latencyTimerLateMs?: number;
    sinkTimerLateMs?: number;
  },
): SimulationResult {
  const { model } = options;
  return simulate(scenario, {
    concurrency: options.concurrency,
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.serverMsPerAttempt ? { serverMsPerAttempt: options.serverMsPerAttempt } : {}),
    ...(options.latencyTimerLateMs ? { latencyTimerLateMs: options.latencyTimerLateMs } : {}),
    ...(options.sinkTimerLateMs ? { sinkTimerLateMs: options.sinkTimerLateMs } : {}),
    ...(options.requests ? { requests: options.requests } : {}),
    cpuShare: options.cpuShare,
    ...(options.cpuPeriodMs !== undefined ? { cpuPeriodMs: options.cpuPeriodMs } : {}),
    ...(options.cpuFullSpeed !== undefined ? { cpuFullSpeed: options.cpuFullSpeed } : {}),
    cpuMsPerResponse: (bodyBytes) => responseCpuMs(model, bodyBytes),
    cpuMsPerFailure: model.overheadMs,
    ...(model.connectMs !== undefined
      ? {
          connectCpuMs: Math.max(0, model.connectMs - (model.connectOpenMs ?? 0) - (model.connectHelloMs ?? 0)),
          connectOpenCpuMs: model.connectOpenMs ?? 0,
          ...(model.connectHelloMs ? { connectHelloCpuMs: model.connectHelloMs } : {}),
        }
      : {}),
    ...(options.serverConnectMs ? { serverConnectMs: options.serverConnectMs } : {}),
  });
}

/** How a replay's process was given CPU. */
export interface ReplayCpu {
  memoryMb: number;
  /** Latencies ran this many times shorter. */
  timeScale: number;
  /** A cgroup quota of memory/1769 of a core times the time scale, capped at `cores`, was applied. */
  throttled: boolean;
  cores: number;
  /**
   * Real ms an idle connection of the replay stays in use (net: harness/mock/net-backend.ts), not
   * scaled with the latencies; absent, the production default in scenario time.
   */
  idleTimeoutMs?: number;
  /**
   * Real ms by which the model sink's timers fire late on this machine, for the scenario's writes
   * at this time scale, on an idle event loop (measured at the sweep's start: measureTimerLateness).
   */
  sinkTimerLateMs?: number;
}

/** Cores the replay's process could use: its cgroup quota, or the whole machine. */
export function replayQuota(replay: ReplayCpu): number {
  return replay.throttled ? Math.min(replay.cores, memoryCpuShare(replay.memoryMb) * replay.timeScale) : replay.cores;
}

/**
 * The share of one core the replay's event loop had, in scenario time. A time-scaled replay
 * squeezes latencies S times but not CPU work, so its CPU looks S times slower; a cgroup quota
 * grown S times makes up for it until the quota reaches a whole core (one thread cannot use
 * more) or the machine's cores.
 */
export function replayCpuShare(replay: ReplayCpu): number {
  return Math.min(1, replayQuota(replay)) / replay.timeScale;
}

/**
 * How the replay's event loop was throttled, in scenario time. In real time the cell's quota has
 * Lambda's own period, and short bursts of CPU run at full speed as on Lambda. Time-scaled, the
 * quota grows with the time scale; from a whole core up (above 1769/timeScale MB) one thread runs
 * unthrottled at 1/timeScale of its real speed in scenario time, an even share (undefined here).
 * Below a core it runs at that speed until the quota of each of the cgroup's periods is used
 * (quotaPeriod: 10 ms real, or longer for a quota under 1 ms), periods timeScale times longer in
 * scenario time. Measured on the seed over real connections at time scale 4 (3 repetitions), an
 * even share put the simulator 10.1% behind the replay at 1 and 2 workers at 128 MB.
 */
export function replayCpuThrottle(replay: ReplayCpu): { periodMs: number; fullSpeed: number } | undefined {
  if (replay.timeScale === 1) return { periodMs: LAMBDA_THROTTLE_PERIOD_MS, fullSpeed: 1 };
  const quota = replayQuota(replay);
  if (!replay.throttled || quota >= 1) return undefined;
  return { periodMs: quotaPeriod(quota).periodMs * replay.timeScale, fullSpeed: 1 / replay.timeScale };
}

/** What the simulator says about one measured cell. */
export interface CellModel {
  /** The replay as it ran (its CPU share and time scale, the mock's CPU included), scenario ms. */
  simulatedMs: number;
  /**
   * Scenario ms that time scaling added to the measured duration: the simulated makespan at the
   * time-scaled replay's CPU share minus that at the share the same replay would have had at
   * time scale 1. Zero at time scale 1.
   */
  timeScaleCorrectionMs: number;
  /** Production: the client's CPU only (the mock's left out), at the memory size's CPU share. */
  projectedMs: number;
  /** Client overhead per attempt with and without the mock's work, ms on a full core. */
  overheadMs: { withMock: number; clientOnly: number };
}

/**
 * Calibrates the CPU model from a cell's own repetitions (the median over them) and runs the
 * simulator three ways: as the replay ran, as it would have run at time scale 1, and as the
 * job would run in production without the mock.
 */
export function modelCell(
  scenario: Scenario,
  cell: { concurrency: number; memoryMb: number; reps: readonly RepCpu[] },
  replay: Omit<ReplayCpu, 'memoryMb'>,
  measuredParse: ParseCost,
  /** The client's CPU per new connection; used only if the repetitions count their connections. */
  measuredConnect?: ConnectCpu,
  /** The requests the job was seen to make (a deployed function's warm-up), when not the scenario's plan. */
  requests?: readonly PlannedRequest[],
): CellModel {
  if (cell.reps.length === 0) throw new RangeError('a cell needs at least one repetition to be modelled');
  const meanBytes = meanBodyBytes(scenario);
  const asRun = { ...replay, memoryMb: cell.memoryMb };
  const unscaled = { ...asRun, timeScale: 1 };
  const production = memoryCpuShare(cell.memoryMb);
  // The model for a process that may use `cores`: the CPU time to explain, the connections' setup
  // and the parse fitted into it, and the overhead per attempt (with or without the mock) that
  // explains the rest.
  const calibrate = (cores: number, withMock: boolean, timeScale?: number): CpuModel => {
    const wall = (rep: RepCpu) => (timeScale === undefined || rep.durationMs === undefined ? undefined : rep.durationMs / timeScale);
    const medianRep = medianBy(cell.reps, (rep) => cpuToModel(rep, cores, wall(rep)));
    const cpuMs = cpuToModel(medianRep, cores, wall(medianRep)) - (withMock ? 0 : medianRep.mockCpuMs);
    const successes = Math.max(0, medianRep.requests - medianRep.errors);
    // In-process backends open no connection and count none: their cells stay as they were.
    const connections = medianRep.connectionsOpened;
    const connectMs =
      measuredConnect === undefined || connections === undefined ? undefined : fitConnectToCpu(measuredConnect.connectCpuMs, { cpuMs, connections });
    // Fitted down with the whole, the opening and the hello keep their shares of it.
    const share = (part: number | undefined) =>
      connectMs === undefined || measuredConnect === undefined || measuredConnect.connectCpuMs === 0 || part === undefined
        ? undefined
        : (connectMs * Math.min(part, measuredConnect.connectCpuMs)) / measuredConnect.connectCpuMs;
    const connectOpenMs = share(measuredConnect?.openCpuMs);
    const connectHelloMs = share(measuredConnect?.helloCpuMs);
    const connecting = (connectMs ?? 0) * (connections ?? 0);
    const parse = fitParseToCpu(measuredParse, parseMs(measuredParse, meanBytes), { cpuMs: cpuMs - connecting, successes });
    const overheadMs = overheadMsPerAttempt({ ...medianRep, mockCpuMs: 0 }, parseMs(parse, meanBytes), true, cpuMs, connectMs ?? 0);
    return {
      overheadMs,
      parse,
      ...(connectMs !== undefined ? { connectMs } : {}),
      ...(connectOpenMs !== undefined ? { connectOpenMs } : {}),
      ...(connectHelloMs ? { connectHelloMs } : {}),
    };
  };
  // The replay's servers, when they ran in a process of their own: their real CPU per attempt,
  // which a time-scaled replay stretches like any real-time cost. Production has no such servers.
  const server = serverCpuSplit(cell.reps, measuredConnect?.serverCpuMs);
  // Its timers, late or early by tenths of a real millisecond: production has no such timers.
  const latencyLateMs = medianOf(cell.reps, (rep) => rep.latencyTimerLateMs);
  // As the replay ran, real-time costs look `timeScale` times larger in scenario time.
  const replayed = (timeScale: number) => ({
    serverMsPerAttempt: server.perAttemptMs * timeScale,
    serverConnectMs: server.perConnectionMs * timeScale,
    latencyTimerLateMs: latencyLateMs * timeScale,
    sinkTimerLateMs: (replay.sinkTimerLateMs ?? 0) * timeScale,
    ...(replay.idleTimeoutMs !== undefined ? { idleTimeoutMs: replay.idleTimeoutMs * timeScale } : {}),
  });
  const run = (
    share: number,
    throttle: { periodMs: number; fullSpeed: number } | undefined,
    model: CpuModel,
    options: { serverMsPerAttempt?: number; serverConnectMs?: number; idleTimeoutMs?: number; latencyTimerLateMs?: number; sinkTimerLateMs?: number } = {},
  ) =>
    simulateWithCpu(scenario, {
      concurrency: cell.concurrency,
      cpuShare: share,
      ...(throttle ? { cpuPeriodMs: throttle.periodMs, cpuFullSpeed: throttle.fullSpeed } : {}),
      model,
      ...options,
      ...(requests ? { requests } : {}),
    }).makespanMs;
  const asRunModel = calibrate(replayQuota(asRun), true, replay.timeScale);
  const simulatedMs = run(replayCpuShare(asRun), replayCpuThrottle(asRun), asRunModel, replayed(replay.timeScale));
  const unscaledMs =
    replay.timeScale === 1 ? simulatedMs : run(replayCpuShare(unscaled), replayCpuThrottle(unscaled), calibrate(replayQuota(unscaled), true, 1), replayed(1));
  const productionModel = calibrate(production, false);
  return {
    simulatedMs,
    timeScaleCorrectionMs: simulatedMs - unscaledMs,
    projectedMs: run(singleThreadShare(cell.memoryMb), { periodMs: LAMBDA_THROTTLE_PERIOD_MS, fullSpeed: 1 }, productionModel),
    overheadMs: { withMock: asRunModel.overheadMs, clientOnly: productionModel.overheadMs },
  };
}

/**
 * The servers' CPU of a cell's repetitions (their median), real ms, 0 when they were not measured
 * apart, split between the new connections (their accept and half of the handshake, as measured
 * at the sweep's start, fitted down like the client's when a repetition's servers spent less in
 * all) and the attempts they read (the rest). Without a measured cost per connection, it all goes
 * to the attempts.
 */
export function serverCpuSplit(reps: readonly RepCpu[], measuredPerConnectionMs?: number): { perAttemptMs: number; perConnectionMs: number } {
  const perConnectionMs = medianOf(reps, (rep) =>
    rep.serverCpuMs === undefined || measuredPerConnectionMs === undefined || !rep.connectionsOpened
      ? undefined
      : fitConnectToCpu(measuredPerConnectionMs, { cpuMs: rep.serverCpuMs, connections: rep.connectionsOpened }),
  );
  const perAttemptMs = medianOf(reps, (rep) => {
    const attempts = rep.requests + rep.retries;
    if (rep.serverCpuMs === undefined || attempts === 0) return undefined;
    return Math.max(0, rep.serverCpuMs - perConnectionMs * (rep.connectionsOpened ?? 0)) / attempts;
  });
  return { perAttemptMs, perConnectionMs };
}

/** The median of a measurement over the repetitions that have it; 0 when none has. */
function medianOf(reps: readonly RepCpu[], value: (rep: RepCpu) => number | undefined): number {
  const values = reps.flatMap((rep) => {
    const x = value(rep);
    return x === undefined ? [] : [x];
  });
  return values.length ? median(values) : 0;
}

/** The element whose key is the median (the lower middle one for an even count). */
function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}

/**
 * Client overhead per attempt (ms on a full core, the mock's CPU taken out) when no real run of
 * the scenario calibrates it: what `npm run bench` measured with N = 2000 warm requests of 10 KB
 * at concurrency 100. For global fetch it still holds the interceptor's own Request/Response
 * handling, which cannot be told apart from the client's, so it overstates a production fetch client.
 */
export const DEFAULT_OVERHEAD_MS: Readonly<Record<Scenario['client']['library'], number>> = { fetch: 0.31, undici: 0.025 };

/** What the simulator's CPU model was calibrated from, in words for the results' method notes. */
export interface Calibration {
  model: CpuModel;
  source: string;
}

/**
 * The client overhead that explains the CPU times of a real sweep: the median over its
 * completed cells' repetitions, the mock's CPU and the parses taken out.
 */
export function overheadFromCells(
  scenario: Scenario,
  cells: ReadonlyArray<{
    state: string;
    reps: ReadonlyArray<{ cpuMs: number; mockCpuMs?: number; requests: number; retries: number; errors: number; connectionsOpened?: number }>;
  }>,
  parse: ParseCost,
  connectCpuMs = 0,
): number | undefined {
  const parsePerSuccess = parseMs(parse, meanBodyBytes(scenario));
  const values = cells
    .filter((cell) => cell.state === 'completed')
    .flatMap((cell) =>
      cell.reps.map((rep) => overheadMsPerAttempt({ ...rep, mockCpuMs: rep.mockCpuMs ?? 0 }, parsePerSuccess, false, rep.cpuMs, connectCpuMs)),
    );
  return values.length ? median(values) : undefined;
}
