import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cellsToMeasureAgain, MODEL_TOLERANCE, modelWarnings } from '../analyze/model-check.ts';
import { MIN_RACE_REPS, raceState, ROUND_REPS } from '../analyze/race.ts';
import type { RecommendOptions } from '../analyze/recommend.ts';
import { percentile, sortSamples } from '../analyze/statistics.ts';
import { InputError } from '../errors.ts';
import { databaseRoute } from '../isolate/database-bridge.ts';
import { namespaceSupport, openFence, type Fence, type IsolationMode, type NamespaceSupport } from '../isolate/fence.ts';
import { createCertificates, trustEnvironment, type Certificates } from '../isolate/tls.ts';
import type { BackendName } from '../mock/choose-backend.ts';
import { backendFor } from '../mock/choose-backend.ts';
import { replayIdleTimeoutMs } from '../mock/net-backend.ts';
import { cpuShare, LAMBDA_FILE_DESCRIPTORS, projectDurationMs, singleThreadShare } from '../model/lambda.ts';
import { idealMakespanMs } from '../model/simulate.ts';
import { priceColdStarts, type ColdStarts } from '../production/compare.ts';
import { cellKeyId, describeCell, type CellKey } from '../results/cell-key.ts';
import { describeEnvironment } from '../results/environment.ts';
import { isReplaceableResults, writeJsonAtomic } from '../results/io.ts';
import { FIDELITY_LIMIT, isCompleted, SCHEMA_VERSION, type Cell, type Grid, type Results } from '../results/schema.ts';
import { openCellSession, type CellRun, type CellSession } from '../run/cell-session.ts';
import {
  detectCpuController,
  detectFunctionGroupController,
  LAMBDA_PERIOD_US,
  removeStaleGroups,
  type CpuController,
  type FunctionGroupController,
} from '../run/cgroup.ts';
import { measureConnectCost } from '../run/connect-cost.ts';
import { openFunctionSession } from '../run/function-cell.ts';
import { measureLoopbackCost } from '../run/loopback-cost.ts';
import { measureParseCost } from '../run/parse-cost.ts';
import { CALIBRATION_WAITS, measureTimerLateness } from '../run/timer-lateness.ts';
import { drawSinkLatency } from '../scenario/plan.ts';
import type { CellJob } from '../run/protocol.ts';
import { scenarioHash } from '../scenario/load.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { FunctionSpec } from '../workload/function-spec.ts';
import { isDirectory } from '../write-file.ts';
import { buildCell, type CellModelInputs } from './build-cell.ts';
import { appendCell, checkJournalTarget, journalPath, readJournal, removeJournal, rewriteJournal, startJournal } from './journal.ts';
import { measuredHow, methodOf, usesTls } from './method.ts';
import type { Progress } from './progress.ts';
import { cellsShareProcess, confirmEstimateS, coresPerCell, finalistsOf, planProcesses, roundEstimateS, runPool } from './schedule.ts';
import type { Shard } from './shard.ts';
import { confirmationWarnings, failureWarnings, fidelityWarnings, fileDescriptorWarnings } from './warnings.ts';

export interface SweepPlan {
  scenario: Scenario;
  /** The whole grid asked for; `cells` is all of it, or one shard's part. */
  grid: Grid;
  shard?: Shard;
  cells: CellKey[];
  reps: number;
  timeScale: number;
  outFile: string;
  resume: boolean;
  /** 'auto' uses a cgroup CPU quota where one can be created here, else the model. */
  cpuThrottle: ThrottleMode;
  toolVersion: string;
  /**
   * Cells measured at once, each in its own process (1 = one after another). Cells are I/O-bound
   * and single-threaded, so on a machine with a core per cell they barely meet; each is confined to
   * its share of the cores.
   */
  parallelCells?: number;
  /** Where the scenario's relative paths (workload.module, sink.dataDir) start: the scenario file's directory. */
  scenarioDir?: string;
  /** `net` serves the hosts over real sockets in each cell's namespace; absent, the scenario's client library picks msw or undici. */
  backend?: BackendName;
  /** 'auto' fences each cell in a network namespace where this machine can make one. */
  isolation?: IsolationMode;
  /** Decided before the sweep (so a fallback can be said at once); from backend and isolation if absent. */
  placement?: Placement;
  /** A deployed function (workload.function or .template), resolved by the preflight. */
  functionSpec?: FunctionSpec;
  /**
   * Race the contenders (harness/analyze/race.ts): `reps` is then the screening repetitions, and
   * further rounds measure the winner and its open rivals until decided or the budget is spent.
   */
  race?: SweepRace;
  /** INIT and cold-start rate read from production's logs (`--production`), billed into every completed cell. */
  coldStarts?: ColdStarts;
}

export interface SweepRace {
  /** Wall seconds from the sweep's start after which no new round starts. */
  budgetS: number;
  equivalence: number;
  /** What the recommendation minimises and its limits, as the command will recommend. */
  recommend: RecommendOptions;
}

/** How the cells will be served and fenced, decided once per sweep from what this machine allows. */
export interface Placement {
  backend: BackendName;
  fenced: boolean;
  /** Why the sweep could not do what was asked or what is best, in one line (printed and kept in the notes). */
  fallback?: string;
}

export function choosePlacement(plan: Pick<SweepPlan, 'scenario' | 'backend' | 'isolation'>, support: NamespaceSupport = namespaceSupport()): Placement {
  const isolation = plan.isolation ?? 'auto';
  if (plan.scenario.workload && !('module' in plan.scenario.workload)) {
    // A deployed function opens its own sockets in its own runtime: only real servers in a fence can answer it.
    if (plan.backend && plan.backend !== 'net') {
      throw new InputError({
        field: '--backend',
        problem: `a deployed function is served over real sockets; ${plan.backend} intercepts only Node clients in process`,
        fix: 'leave out --backend, or pass --backend net',
      });
    }
    if (isolation === 'none' || !support.available) {
      throw new InputError({
        field: isolation === 'none' ? '--isolation' : 'workload',
        problem: `a deployed function runs in a network namespace of its own, ${support.available ? 'and --isolation none turns those off' : `but ${support.reason}`}`,
        fix: isolation === 'none' ? 'leave out --isolation none' : 'run the sweep as root on Linux',
      });
    }
    return { backend: 'net', fenced: true };
  }
  const wanted = plan.backend ?? backendFor(plan.scenario.client.library);
  if (isolation === 'none') {
    if (wanted === 'net') {
      throw new InputError({
        field: '--backend',
        problem: 'net serves the hosts inside a network namespace, and --isolation none turns those off',
        fix: 'leave out --isolation none, or choose --backend msw or undici',
      });
    }
    return { backend: wanted, fenced: false };
  }
  if (support.available) return { backend: wanted, fenced: true };
  if (isolation === 'namespace') {
    throw new InputError({
      field: '--isolation',
      problem: `namespace was asked for, but ${support.reason}`,
      fix: 'run as root on Linux, or leave out --isolation',
    });
  }
  const inProcess = backendFor(plan.scenario.client.library);
  return {
    backend: wanted === 'net' ? inProcess : wanted,
    fenced: false,
    fallback: `no network namespace here (${support.reason}): ${wanted === 'net' ? `the ${inProcess} backend serves the job in its own process instead of net, so connection setup is not modelled, and ` : ''}egress is fenced only for the clients the in-process mocks intercept (global fetch, node:http/https through their default import, axios, got, undici's global dispatcher); a socket of the job's own can reach the network`,
  };
}

export const WARMUP_INVOCATIONS = 1;
export const WARMUP_CONCURRENCY = 32;

/** Fails in milliseconds, not after an hour of sweeping, when the results cannot be written. */
export function checkWritable(outFile: string): void {
  if (isDirectory(outFile)) {
    throw new InputError({
      file: outFile,
      field: '--out',
      problem: 'is a directory',
      fix: `name the results file to write, such as ${join(outFile, 'results.json')}`,
    });
  }
  if (!isReplaceableResults(outFile)) {
    throw new InputError({
      file: outFile,
      field: '--out',
      problem: 'exists and is not a fanout-tuner results file, so it is left as it is',
      fix: 'choose another --out, or move the file away',
    });
  }
  try {
    mkdirSync(dirname(outFile), { recursive: true });
    const probe = `${outFile}.probe-${process.pid}`;
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new InputError({
      file: outFile,
      field: '--out',
      problem: `cannot write the results there (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      fix: 'choose a writable path with --out',
    });
  }
}

export const THROTTLE_MODES = ['auto', 'cgroup', 'model', 'none'] as const;
export type ThrottleMode = (typeof THROTTLE_MODES)[number];

function chooseController(mode: ThrottleMode): CpuController | undefined {
  if (mode === 'none' || mode === 'model') return undefined;
  const controller = detectCpuController();
  if (!controller && mode === 'cgroup') {
    throw new InputError({
      field: '--cpu-throttle',
      problem: 'cgroup was asked for, but no writable CPU controller was found (needs Linux, root and the cpu controller)',
      fix: 'run as root on Linux, or leave out --cpu-throttle',
    });
  }
  return controller;
}

/** A deployed function's limits are cgroups (memory and CPU), the only ones every runtime obeys. */
function chooseFunctionGroups(mode: ThrottleMode): FunctionGroupController {
  const controller = mode === 'none' || mode === 'model' ? undefined : detectFunctionGroupController();
  if (!controller) {
    throw new InputError({
      field: mode === 'auto' || mode === 'cgroup' ? 'workload' : '--cpu-throttle',
      problem: 'a deployed function needs cgroups for its memory and CPU limits (Linux, root, the memory and cpu controllers)',
      fix: mode === 'auto' || mode === 'cgroup' ? 'run the sweep as root on Linux' : 'leave out --cpu-throttle',
    });
  }
  return controller;
}

/** The scenario as the in-process backends serve it: a connection there costs no round trip. */
export function withoutRoundTrips(scenario: Scenario): Scenario {
  const hosts = Object.fromEntries(Object.entries(scenario.hosts).map(([name, { rttMs: _rtt, ...host }]) => [name, host]));
  return { ...scenario, hosts };
}

/** The model's stand-in for a CPU quota: each repetition's duration as if run at the memory size's CPU share. */
export function projectRunToMemory(run: CellRun, memoryMb: number): CellRun {
  const toShare = singleThreadShare(memoryMb);
  return {
    ...run,
    reps: run.reps.map((rep) => ({
      ...rep,
      durationMs: projectDurationMs({ measuredWallMs: rep.durationMs, measuredCpuMs: rep.cpuMs, fromShare: 1, toShare }),
    })),
  };
}

/**
 * Runs the cells, each in its own process, `parallelCells` at a time, writing the journal and the
 * results file after every cell.
 */
export async function runSweep(plan: SweepPlan, progress: Progress, onCell?: (cell: Cell) => void): Promise<Results> {
  const sweepStarted = performance.now();
  checkWritable(plan.outFile);
  const hash = scenarioHash(plan.scenario);
  const journal = journalPath(plan.outFile);
  checkJournalTarget(journal);
  const functionGroups = plan.functionSpec ? chooseFunctionGroups(plan.cpuThrottle) : undefined;
  const controller = plan.functionSpec ? undefined : chooseController(plan.cpuThrottle);
  // Whichever groups apply the memory size's CPU share: a cell's quota, or a function's groups.
  const cpuLimit = controller ?? functionGroups;
  const placement = plan.placement ?? choosePlacement(plan);
  const how = measuredHow(plan, cpuLimit, placement);
  const resumed = plan.resume ? readJournal(journal, hash, how) : undefined;
  const startedAt = resumed?.startedAt ?? new Date().toISOString();
  if (cpuLimit) removeStaleGroups();
  const net = placement.backend === 'net';
  const loopback = net ? await measureLoopbackCost() : undefined;
  // One CA and one certificate per host for the whole sweep: made in milliseconds, trusted by every cell.
  const certificates: Certificates | undefined = net ? createCertificates(Object.keys(plan.scenario.hosts)) : undefined;
  const parallelCells = plan.parallelCells ?? 1;
  const cores = coresPerCell(parallelCells);
  // The model sink's writes wait on timers; how late they fire is the machine's, at the sweep's time scale.
  const sinkTimerLateMs =
    plan.scenario.sink.kind === 'model'
      ? await measureTimerLateness(Array.from({ length: CALIBRATION_WAITS }, (_, batch) => drawSinkLatency(plan.scenario, batch) / plan.timeScale))
      : undefined;
  const cellModel: CellModelInputs = {
    replay: {
      timeScale: plan.timeScale,
      ...(sinkTimerLateMs !== undefined ? { sinkTimerLateMs } : {}),
      throttled: cpuLimit !== undefined,
      cores,
      // A deployed function brings its own client; a Node job uses undici or fetch, which give up idle connections early.
      ...(net ? { idleTimeoutMs: replayIdleTimeoutMs(plan.functionSpec === undefined) } : {}),
    },
    parse: await measureParseCost(plan.scenario),
    // Real connections cost the client CPU per handshake; in process there are none.
    ...(net ? { connect: await measureConnectCost({ library: plan.scenario.client.library, tls: usesTls(plan.scenario) }) } : {}),
  };

  const wanted = new Set(plan.cells.map(cellKeyId));
  const done = new Map((resumed?.cells ?? []).filter((cell) => wanted.has(cellKeyId(cell))).map((cell) => [cellKeyId(cell), cell]));
  if (resumed) rewriteJournal(journal, { scenarioHash: hash, method: how, startedAt }, resumed.cells);
  else startJournal(journal, { scenarioHash: hash, method: how, startedAt });

  const results: Results = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'fanout-tuner', version: plan.toolVersion },
    env: describeEnvironment(),
    scenario: plan.scenario,
    scenarioHash: hash,
    method: methodOf(plan, cpuLimit, placement, loopback, cellModel.connect, sinkTimerLateMs),
    startedAt,
    grid: plan.grid,
    ...(plan.shard ? { shard: plan.shard } : {}),
    cells: [],
    warnings: [],
    recommendation: null,
  };
  const inOrder = () => plan.cells.flatMap((key) => done.get(cellKeyId(key)) ?? []);

  progress.start(plan.cells.length);
  for (const cell of done.values()) progress.cellFinished(describeCell(cell), `${cell.state} (from the journal)`);

  // In process there is no connection to wait for: the ideal of those backends leaves out the hosts' round trips.
  const idealScenario = net ? plan.scenario : withoutRoundTrips(plan.scenario);
  const ideals = new Map<number, number>();
  const idealOf = (key: CellKey): number => {
    if (!ideals.has(key.concurrency)) ideals.set(key.concurrency, idealMakespanMs(idealScenario, key.concurrency));
    return ideals.get(key.concurrency)!;
  };

  const jobFor = (first: CellKey, timeScale = plan.timeScale): CellJob => ({
    scenario: plan.scenario,
    concurrency: first.concurrency,
    memoryMb: first.memoryMb,
    reps: plan.reps,
    warmupInvocations: WARMUP_INVOCATIONS,
    warmupConcurrency: Math.max(first.concurrency, WARMUP_CONCURRENCY),
    timeScale,
    invocationTimeoutMs: plan.scenario.lambda.timeoutS * 1000,
    ...(plan.scenarioDir ? { scenarioDir: plan.scenarioDir } : {}),
  });

  // Each cell's measurements so far, as measured in this process: a race adds repetitions to them.
  const runs = new Map<string, CellRun>();
  const record = (key: CellKey, measured: CellRun) => {
    const id = cellKeyId(key);
    const earlier = runs.get(id);
    // More repetitions of a completed cell join its earlier ones; a failure among them fails the cell.
    const run: CellRun =
      earlier?.state === 'completed'
        ? measured.state === 'completed'
          ? { ...earlier, reps: [...earlier.reps, ...measured.reps] }
          : { ...measured, reps: [...earlier.reps, ...measured.reps] }
        : measured;
    runs.set(id, run);
    // Only where no cgroup applied the CPU share does the model stretch the measured CPU time.
    const projected = !cpuLimit && plan.cpuThrottle !== 'none' ? projectRunToMemory(run, key.memoryMb) : run;
    // A deployed function's ideal is that of the requests its warm-up was seen to make.
    const ideal = run.state === 'completed' && run.requests ? idealMakespanMs(idealScenario, key.concurrency, run.requests) : idealOf(key);
    const built = buildCell(key, projected, ideal, plan.scenario, cellModel);
    // Production's cold starts (--production) are billed here, so a race weighs the costs the recommendation will.
    const cell = plan.coldStarts ? priceColdStarts([built], plan.scenario, plan.coldStarts)[0]! : built;
    done.set(cellKeyId(key), cell);
    appendCell(journal, cell);
    results.cells = inOrder();
    writeJsonAtomic(plan.outFile, results);
    progress.cellFinished(describeCell(key), describeOutcome(cell));
    onCell?.(cell);
  };

  /** A deployed function's cell: its own runtime process, fenced, under its memory and CPU limits. */
  const openFunctionCell = async (key: CellKey, spec: FunctionSpec): Promise<{ cells: CellSession; release: () => Promise<void> }> => {
    const cells = await openFunctionSession(spec, jobFor(key), {
      controller: functionGroups!,
      cpus: Math.min(cores, cpuShare(key.memoryMb) * plan.timeScale),
      certificates: certificates!,
      region: plan.scenario.lambda.region,
    });
    return { cells, release: async () => {} };
  };

  /** A cell process for `key`'s memory size: fenced (with the servers, on `net`) and under its quota. */
  const openSession = async (key: CellKey, timeScale = plan.timeScale): Promise<{ cells: CellSession; release: () => Promise<void> }> => {
    if (plan.functionSpec) return openFunctionCell(key, plan.functionSpec);
    // A real database is reached from inside the fence at the address its connection string names.
    const fence: Fence | undefined = placement.fenced
      ? await openFence(
          certificates ? { scenario: plan.scenario, timeScale, certificates } : undefined,
          [],
          databaseRoute(plan.scenario, process.env, timeScale),
        )
      : undefined;
    // In real time, throttled as Lambda throttles; time-scaled, in shorter periods (docs/method.md).
    const quota = controller?.create(Math.min(cores, cpuShare(key.memoryMb) * timeScale), timeScale === 1 ? LAMBDA_PERIOD_US : undefined);
    const release = async () => {
      quota?.remove();
      await fence?.close();
    };
    try {
      const job: CellJob = { ...jobFor(key, timeScale), ...(fence?.controlSocket ? { serversAt: fence.controlSocket } : {}) };
      const cells = await openCellSession(
        job,
        { lambdaMemoryMb: key.memoryMb, fileDescriptors: LAMBDA_FILE_DESCRIPTORS, ...(quota ? { confine: (pid) => quota.attach(pid) } : {}) },
        { ...(fence ? { fence } : {}), ...(certificates ? { env: trustEnvironment(certificates.caFile) } : {}) },
      );
      return { cells, release };
    } catch (error) {
      await release();
      throw error;
    }
  };

  /** Measures a process's cells in turn; a cell that fails ends its process, and the next cell gets a new one. */
  const measureCells = async (keys: readonly CellKey[], reps: number = plan.reps, confirming = false): Promise<void> => {
    let session: { cells: CellSession; release: () => Promise<void> } | undefined;
    try {
      for (const key of keys) {
        if (!session?.cells.open) {
          if (session) await session.release();
          session = undefined;
          session = await openSession(key, confirming ? 1 : plan.timeScale);
        }
        progress.cellStarted(describeCell(key));
        const run = await session.cells.measure(key.concurrency, undefined, reps);
        if (confirming) confirm(key, run);
        else record(key, run);
      }
    } finally {
      await session?.cells.close();
      await session?.release();
    }
  };

  /** A finalist measured again in real time, throttled as Lambda throttles: kept beside its raced durations. */
  const confirm = (key: CellKey, run: CellRun) => {
    const cell = done.get(cellKeyId(key));
    progress.cellFinished(describeCell(key), run.state === 'completed' ? `confirmed in real time` : `not confirmed: ${run.state}`);
    if (!cell || !isCompleted(cell) || run.state !== 'completed' || run.reps.length === 0) return;
    const confirmedMs = percentile(sortSamples(run.reps.map((rep) => rep.durationMs)), 0.5);
    const confirmed = { reps: run.reps.length, durationMs: confirmedMs, deviation: confirmedMs / cell.durationMs.median - 1 };
    done.set(cellKeyId(key), { ...cell, confirmed });
    results.cells = inOrder();
    writeJsonAtomic(plan.outFile, results);
  };

  let unconfirmedNote: string | undefined;
  const remaining = plan.cells.filter((key) => !done.has(cellKeyId(key)));
  const share = cellsShareProcess(plan.scenario);
  try {
    await runPool(planProcesses(remaining, parallelCells, idealOf, share), parallelCells, (keys) => measureCells(keys));
    if (plan.race) {
      const race = plan.race;
      // A cell whose one screening repetition disagrees with the ideal or the simulator: measured again before anyone is warned.
      const again: CellKey[] = cellsToMeasureAgain(inOrder(), MIN_RACE_REPS, { deployedFunction: plan.functionSpec !== undefined }).filter((cell) =>
        runs.has(cellKeyId(cell)),
      );
      const screenedS = (performance.now() - sweepStarted) / 1000;
      const affordable = again.filter(
        (_, index) => screenedS + roundEstimateS(again.slice(0, index + 1), (key) => done.get(cellKeyId(key)), plan.timeScale, parallelCells) <= race.budgetS,
      );
      if (affordable.length > 0) {
        progress.addRound(
          affordable.length,
          `measuring again ${affordable.length} cell(s) whose one repetition was off the simulator or the ideal, ${ROUND_REPS} more repetitions each`,
        );
        await runPool(planProcesses(affordable, parallelCells, idealOf, share), parallelCells, (keys) => measureCells(keys, ROUND_REPS));
        results.method.notes.push(
          `Measured again, ${ROUND_REPS} more repetitions each, before the harness and the simulator were judged (one repetition was off the simulator by more than ${MODEL_TOLERANCE * 100}% or off the ideal by more than ${FIDELITY_LIMIT}x): ${affordable.map((key) => describeCell(key)).join('; ')}.`,
        );
      }
      for (;;) {
        const state = raceState(inOrder(), race.recommend, race);
        // Only cells measured by this process can take more repetitions (a resumed cell's raw measurements are gone).
        const toMeasure = state?.toMeasure.filter((key) => runs.has(cellKeyId(key))) ?? [];
        if (toMeasure.length === 0 || toMeasure.length < (state?.toMeasure.length ?? 0)) break;
        const elapsedS = (performance.now() - sweepStarted) / 1000;
        if (elapsedS + roundEstimateS(toMeasure, (key) => done.get(cellKeyId(key)), plan.timeScale, parallelCells) > race.budgetS) break;
        progress.addRound(
          toMeasure.length,
          `race: ${toMeasure.length} contenders, ${ROUND_REPS} more repetitions each (${Math.round(elapsedS)} s of the ${race.budgetS} s budget)`,
        );
        await runPool(planProcesses(toMeasure, parallelCells, idealOf, share), parallelCells, (keys) => measureCells(keys, ROUND_REPS));
      }
      // The finalists once more in real time, in Lambda's 20 ms throttling periods, where time scaling applied.
      const finalists = plan.timeScale > 1 && controller ? finalistsOf(raceState(inOrder(), race.recommend, race)) : [];
      const elapsedS = (performance.now() - sweepStarted) / 1000;
      const confirmS = confirmEstimateS(finalists, (key) => done.get(cellKeyId(key)), parallelCells);
      if (finalists.length > 0 && elapsedS + confirmS <= race.budgetS) {
        progress.addRound(finalists.length, `confirming ${finalists.length} finalist(s) in real time, throttled in 20 ms periods as on Lambda`);
        await runPool(
          finalists.map((key) => [key]),
          parallelCells,
          (keys) => measureCells(keys, 1, true),
        );
      } else if (finalists.length > 0) {
        unconfirmedNote = `The finalists were not confirmed in real time: that takes about ${Math.round(confirmS)} s, and ${Math.max(0, Math.round(race.budgetS - elapsedS))} s of the ${race.budgetS} s budget were left; raise --budget to confirm them.`;
      }
    }
  } finally {
    progress.stop();
    certificates?.remove();
  }
  results.cells = inOrder();
  results.warnings = [
    ...fidelityWarnings(results.cells, { deployedFunction: plan.functionSpec !== undefined }),
    ...modelWarnings(results.cells),
    ...failureWarnings(results.cells),
    ...fileDescriptorWarnings(results.cells),
    ...confirmationWarnings(results.cells),
  ];
  const confirmedCells = results.cells.filter((cell) => isCompleted(cell) && cell.confirmed);
  if (confirmedCells.length > 0) {
    results.method.notes.push(
      `Confirmed in real time (time scale 1, throttled in 20 ms periods as Lambda throttles, 1 repetition after a warm-up): ${confirmedCells.map((cell) => describeCell(cell)).join('; ')}. Each cell's \`confirmed\` holds that duration and its deviation from the time-scaled median.`,
    );
  }
  if (unconfirmedNote) results.method.notes.push(unconfirmedNote);
  results.finishedAt = new Date().toISOString();
  return results;
}

/** Writes the finished results and removes the journal, which the results file now supersedes. */
export function finishSweep(outFile: string, results: Results): void {
  writeJsonAtomic(outFile, results);
  removeJournal(journalPath(outFile));
}

function describeOutcome(cell: Cell): string {
  if (!isCompleted(cell)) return cell.state;
  return `median ${(cell.durationMs.median / 1000).toFixed(2)} s, fidelity ${cell.fidelityRatio.toFixed(2)}x`;
}
