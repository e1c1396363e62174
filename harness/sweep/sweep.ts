import { availableParallelism } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { InputError } from '../errors.ts';
import { cpuShare, heapLimitMb, projectDurationMs, singleThreadShare } from '../model/lambda.ts';
import { idealMakespanMs } from '../model/simulate.ts';
import { isCompleted, SCHEMA_VERSION, type Cell, type CompletedCell, type Grid, type Method, type Results } from '../results/schema.ts';
import type { Shard } from './shard.ts';
import { isReplaceableResults, writeJsonAtomic } from '../results/io.ts';
import { isDirectory } from '../write-file.ts';
import { scenarioHash } from '../scenario/load.ts';
import type { Scenario } from '../scenario/schema.ts';
import { detectCpuController, detectFunctionGroupController, LAMBDA_PERIOD_US, removeStaleGroups, type CpuController, type FunctionGroupController } from '../run/cgroup.ts';
import { openFunctionSession } from '../run/function-cell.ts';
import type { FunctionSpec } from '../workload/function-spec.ts';
import { openCellSession, type CellRun, type CellSession } from '../run/cell-session.ts';
import type { CellJob } from '../run/protocol.ts';
import { buildCell, FIDELITY_LIMIT, type CellModelInputs } from './build-cell.ts';
import { measureParseCost } from '../run/parse-cost.ts';
import { measureConnectCost } from '../run/connect-cost.ts';
import { planRequests } from '../scenario/plan.ts';
import { modelWarnings } from '../analyze/model-check.ts';
import { judgedForFidelity } from '../analyze/fidelity.ts';
import { backendFor } from '../mock/choose-backend.ts';
import { cellKeyId, describeCell, type CellKey } from '../results/cell-key.ts';
import { MOCKS_NAME } from '../mock/all-clients.ts';
import { replayIdleTimeoutMs } from '../mock/net-backend.ts';
import { namespaceSupport, openFence, type Fence, type IsolationMode, type NamespaceSupport } from '../isolate/fence.ts';
import { createCertificates, trustEnvironment, type Certificates } from '../isolate/tls.ts';
import { databaseRoute } from '../isolate/database-bridge.ts';
import type { BackendName } from '../mock/choose-backend.ts';
import { measureLoopbackCost, type LoopbackCost } from '../run/loopback-cost.ts';
import { appendCell, checkJournalTarget, journalPath, readJournal, removeJournal, rewriteJournal, startJournal, type JournalMethod } from './journal.ts';
import type { Progress } from './progress.ts';
import { CONTENDER_MARGIN, raceState, ROUND_REPS } from '../analyze/race.ts';
import { percentile, sortSamples } from '../analyze/statistics.ts';
import { priceColdStarts, type ColdStarts } from '../production/compare.ts';
import type { RecommendOptions } from '../analyze/recommend.ts';

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
      throw new InputError({ field: '--backend', problem: `a deployed function is served over real sockets; ${plan.backend} intercepts only Node clients in process`, fix: 'leave out --backend, or pass --backend net' });
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
      throw new InputError({ field: '--backend', problem: 'net serves the hosts inside a network namespace, and --isolation none turns those off', fix: 'leave out --isolation none, or choose --backend msw or undici' });
    }
    return { backend: wanted, fenced: false };
  }
  if (support.available) return { backend: wanted, fenced: true };
  if (isolation === 'namespace') {
    throw new InputError({ field: '--isolation', problem: `namespace was asked for, but ${support.reason}`, fix: 'run as root on Linux, or leave out --isolation' });
  }
  const inProcess = backendFor(plan.scenario.client.library);
  return {
    backend: wanted === 'net' ? inProcess : wanted,
    fenced: false,
    fallback: `no network namespace here (${support.reason}): ${wanted === 'net' ? `the ${inProcess} backend serves the job in its own process instead of net, so connection setup is not modelled, and ` : ''}egress is fenced only for the clients the in-process mocks intercept (global fetch, node:http/https through their default import, axios, got, undici's global dispatcher); a socket of the job's own can reach the network`,
  };
}

const WARMUP_INVOCATIONS = 1;
const WARMUP_CONCURRENCY = 32;

/** Fails in milliseconds, not after an hour of sweeping, when the results cannot be written. */
export function checkWritable(outFile: string): void {
  if (isDirectory(outFile)) {
    throw new InputError({ file: outFile, field: '--out', problem: 'is a directory', fix: `name the results file to write, such as ${join(outFile, 'results.json')}` });
  }
  if (!isReplaceableResults(outFile)) {
    throw new InputError({ file: outFile, field: '--out', problem: 'exists and is not a fanout-tuner results file, so it is left as it is', fix: 'choose another --out, or move the file away' });
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

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Where the results come from. FANOUT_TUNER_COMMIT and FANOUT_TUNER_BRANCH name the side being
 * swept in CI, where GITHUB_SHA is the same merge commit for base and head, and where the
 * composite action's tool runs from its own checkout, not the job's.
 */
export function describeEnvironment(): Results['env'] {
  const env = process.env;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    commit: env.FANOUT_TUNER_COMMIT || env.GITHUB_SHA || git(['rev-parse', 'HEAD']),
    branch: env.FANOUT_TUNER_BRANCH || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || git(['rev-parse', '--abbrev-ref', 'HEAD']),
  };
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

/** The cores one cell may use when `parallelCells` run at once (at least one). */
export function coresPerCell(parallelCells: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / parallelCells));
}

/**
 * How many cells to measure at once when the user does not say: one per core, since each cell's
 * event loop uses one; but one at a time when rows go to a real database, which the cells would
 * share (and whose write times they would then distort), or when the job parses on a worker pool,
 * which needs more than one core; and never more cells than there are.
 */
export function defaultParallelCells(scenario: Scenario, cellCount: number, cores: number = availableParallelism()): number {
  if (scenario.sink.kind !== 'model' || scenario.work.threads > 0) return 1;
  return Math.max(1, Math.min(cores, cellCount));
}

function methodOf(plan: SweepPlan, controller: Pick<CpuController, 'kind'> | undefined, placement: Placement, loopback: LoopbackCost | undefined, connectCpuMs: number | undefined): Method {
  const parallelCells = plan.parallelCells ?? 1;
  const cores = coresPerCell(parallelCells);
  const processes = cellsShareProcess(plan.scenario)
    ? `Cells of one memory size share a Node process (one heap limit, one CPU quota), as a warm Lambda container serves one invocation after another; each process starts with ${WARMUP_INVOCATIONS} untimed warm-up invocation`
    : `Each cell runs in a fresh Node process (${plan.scenario.workload ? 'your handler may keep state between calls' : 'the database is real'}), with ${WARMUP_INVOCATIONS} untimed warm-up invocation`;
  const notes = [
    `${processes} (at concurrency ${WARMUP_CONCURRENCY} or the first cell's, whichever is higher: it only loads modules and warms the JIT), excluded from the timings. A cell that fails ends its process; the next cell gets a fresh one. On Linux each cell's peak memory is its own (the process's high-water mark is reset before each cell).`,
    plan.functionSpec
      ? `The ideal makespan of each cell is what an infinitely fast client would reach with the same draws, capacities and rate limits. For a deployed function measured/ideal is not a check of the harness: what the function's runtime, threads and TLS add over the ideal is its own cost, which it pays on Lambda too.`
      : `The ideal makespan of each cell is what an infinitely fast client and mock would reach with the same draws, capacities and rate limits; measured/ideal above ${FIDELITY_LIMIT} means the harness itself was a bottleneck.`,
  ];
  if (controller) {
    notes.push(
      `Memory sizes are applied as a CPU quota (${controller.kind}) of memory/1769 of a core${plan.timeScale > 1 ? ` times the time scale ${plan.timeScale}` : ''}, ${plan.timeScale === 1 || plan.functionSpec ? 'throttled in 20 ms periods as Lambda throttles' : 'throttled in 10 ms periods (longer below 177 MB x the time scale, where the quota would fall under the kernel\'s 1 ms)'}, capped at ${parallelCells > 1 ? `the ${cores} core(s) each of the ${parallelCells} cells measured at once had` : `this machine's ${cores} cores`}, and ${plan.functionSpec ? 'a memory cgroup limit of the memory size for the function\'s whole process tree' : 'a V8 heap limit of the memory size less 40 MB'}.`,
    );
  } else if (plan.cpuThrottle === 'none') {
    notes.push('No CPU quota was applied: memory sizes differ only by their heap limit and price.');
  } else {
    notes.push(
      'No writable cgroup here: each cell ran at full speed and its duration was projected to the memory size with a first-order model (the CPU time stretched by 1769/memory, the I/O time unchanged). It assumes all CPU work sits on the critical path, so it overstates the slowdown of small sizes for a job whose CPU work hides behind slow responses. Run as root on Linux for measured cgroup throttling.',
    );
  }
  notes.push(
    'The simulator (harness/model/simulate.ts) is calibrated per cell from its repetitions: the parse is timed with tinybench on the scenario\'s own bodies, the client overhead per attempt is the rest of the measured CPU time. simulatedMs is the simulator\'s makespan for the replay as it ran; modelError = simulatedMs / measured median - 1.',
    `projectedMs is the simulator's duration in production: the mock's own CPU time (mockCpuMs, timed around its work${backendFor(plan.scenario.client.library) === 'msw' ? '; msw\'s internal Request/Response handling is not separable and stays in the client\'s share, so msw projections are slightly pessimistic' : ''}) is left out and the CPU runs at the memory size's share of a core.`,
  );
  if (plan.timeScale > 1) {
    notes.push(
      `Latencies ran ${plan.timeScale}x shorter and durations were scaled back. CPU work does not shrink with them: where the quota cannot grow ${plan.timeScale}x (${controller ? `above ${Math.round(1769 / plan.timeScale)} MB, where one thread would need more than a core` : 'at every size: no quota was applied'}) the CPU looked slower than it is${placement.backend === 'net' ? `, and the loopback servers' own real-time work (their CPU per attempt, recorded as serverCpuMs) looked ${plan.timeScale}x larger` : ''}; each cell's timeScaleCorrectionMs, the simulator's estimate of the time that added, is subtracted from its durations.`,
    );
  }
  if (plan.scenario.workload) {
    notes.push(
      `The job is your handler (${'module' in plan.scenario.workload ? plan.scenario.workload.module : 'a Lambda function'}); its requests, retries and errors were counted on the mock servers' side. The ideal makespan assumes the built-in client's timeouts and retries (scenario "client"), so a fidelity ratio far from 1 may mean your handler retries differently, not that the harness was slow.`,
    );
    if (plan.timeScale > 1) notes.push('Your handler\'s own timeouts and waits do not shrink with the time scale; run it at time scale 1 for durations you can trust.');
  }
  if (plan.scenario.sink.kind !== 'model') {
    notes.push(
      `Rows were written to a real database (${plan.scenario.sink.kind}); its write times count in full and are not scaled${plan.scenario.sink.kind === 'pglite' ? ', and PGlite runs inside the cell process, so its CPU and memory count against the cell' : ''}. The ideal makespan counts writes as instant.`,
    );
  }
  if (parallelCells > 1) {
    notes.push(
      `${parallelCells} cells were measured at a time, each in its own process${controller ? ' under its own quota' : ''} and with ${cores} of this machine's ${availableParallelism()} cores to itself; a sweep that stops loses at most those ${parallelCells} cells. Run with --parallel 1 to measure one cell at a time.`,
    );
  }
  notes.push(...placementNotes(placement, loopback));
  if (connectCpuMs !== undefined) {
    notes.push(
      `Each new connection cost the job's client ${connectCpuMs.toFixed(3)} ms of CPU on a full core (the ${plan.scenario.client.library} client's side of the TCP${usesTls(plan.scenario) ? ' and TLS' : ''} handshake, measured against a loopback server at the sweep's start); the simulator charges it per connection the servers counted, divided by the memory size's CPU share.`,
    );
  }
  if (plan.race) {
    notes.push(
      `Raced (--reps auto): every cell was measured ${plan.reps} time(s) to screen the grid; then, in rounds of ${ROUND_REPS}, more repetitions went to the winner and to the settings within ${CONTENDER_MARGIN * 100}% of it until each was worse at 95% confidence, or equivalent within ${plan.race.equivalence * 100}%, or ${plan.race.budgetS} s had passed. The other cells keep their screening repetition: their intervals are absent, and they were not candidates. recommendation.decision says how it ended.`,
    );
  } else if (plan.reps < 3) notes.push(`Only ${plan.reps} repetition(s) per cell: confidence intervals are wide or absent.`);
  return {
    ...measuredHow(plan, controller, placement),
    ...(connectCpuMs !== undefined ? { connectCpuMs } : {}),
    ...(loopback ? { loopback } : {}),
    notes,
  };
}

/**
 * What of the method changes the numbers a cell measures: a journal keeps it, and a sweep resumes
 * only from a journal measured the same way, so that no results file mixes cells of two methods.
 */
export function measuredHow(plan: Pick<SweepPlan, 'scenario' | 'timeScale' | 'reps' | 'race' | 'cpuThrottle' | 'parallelCells'>, controller: unknown, placement: Placement): JournalMethod {
  const parallelCells = plan.parallelCells ?? 1;
  return {
    // A user's handler may use any client, so every in-process backend serves it; the built-in job uses one.
    backend: placement.backend === 'net' ? 'net' : plan.scenario.workload ? MOCKS_NAME : backendFor(plan.scenario.client.library),
    isolation: placement.fenced ? 'namespace' : 'none',
    cpuThrottle: controller ? 'cgroup' : plan.cpuThrottle === 'none' ? 'none' : 'model',
    timeScale: plan.timeScale,
    reps: plan.reps,
    ...(plan.race ? { race: { budgetS: plan.race.budgetS, equivalence: plan.race.equivalence } } : {}),
    warmupInvocations: WARMUP_INVOCATIONS,
    ...(parallelCells > 1 ? { parallelCells } : {}),
  };
}

function usesTls(scenario: Scenario): boolean {
  return planRequests(scenario).some((request) => request.url.startsWith('https:'));
}

/** The scenario as the in-process backends serve it: a connection there costs no round trip. */
export function withoutRoundTrips(scenario: Scenario): Scenario {
  const hosts = Object.fromEntries(Object.entries(scenario.hosts).map(([name, { rttMs: _rtt, ...host }]) => [name, host]));
  return { ...scenario, hosts };
}

function placementNotes(placement: Placement, loopback: LoopbackCost | undefined): string[] {
  const notes: string[] = [];
  if (placement.fenced) {
    notes.push(
      'Each cell process ran in a network namespace of its own where only loopback exists: the scenario\'s hosts resolve there through a hosts file, any other name finds no name server, and no socket can reach beyond this machine, whatever client, Worker or child process the job uses.',
    );
  }
  if (placement.backend === 'net') {
    notes.push(
      `The scenario's hosts were real HTTP/1.1 servers on loopback in each cell's namespace (TLS on https URLs, with a certificate per host from a CA made for this sweep, trusted through NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE), in a process outside the cell's CPU quota: the job paid for its own connections, handshakes and socket I/O and for none of the servers' work.${loopback ? ` One loopback HTTP round trip cost ${loopback.wallUsPerRoundTrip} us of wall time and ${loopback.cpuUsPerRoundTrip} us of CPU (client and server together) on this machine, over ${loopback.roundTrips} kept-alive round trips at the sweep's start; a native Linux kernel takes a fraction of that, so socket-heavy cells here are somewhat pessimistic.` : ''}`,
    );
  } else {
    notes.push('The mocks ran inside the job\'s process: no TCP connect, TLS handshake or socket I/O was paid, and the mock\'s own CPU counted against the job\'s share (mockCpuMs; the projection leaves it out).');
  }
  if (placement.fallback) notes.push(`Fallback: ${placement.fallback}.`);
  return notes;
}

/**
 * Whether cells of one memory size may share a process. They may for the built-in job writing to
 * the modelled database: a warm container serving one invocation after another, with nothing
 * carried from one to the next but warm code. Not for a user's handler, which may read MAX_WORKERS
 * once at load or keep state between calls, nor for a real database, whose table would grow from
 * cell to cell.
 */
export function cellsShareProcess(scenario: Scenario): boolean {
  return !scenario.workload && scenario.sink.kind === 'model';
}

/**
 * The cells each process measures, in the order the processes start. Sharing: one process per
 * memory size (one heap limit, one CPU quota), split further when there are fewer sizes than
 * lanes so that every lane has work; the longest cells first within a process, and the processes
 * with the most work first. Not sharing: a process per cell, the longest first.
 */
export function planProcesses(cells: readonly CellKey[], lanes: number, idealMs: (key: CellKey) => number, share: boolean): CellKey[][] {
  const ordered = longestFirst(cells, idealMs);
  if (!share) return ordered.map((key) => [key]);
  const bySize = new Map<string, CellKey[]>();
  for (const key of ordered) {
    const size = `${key.memoryMb}/${key.architecture}`;
    bySize.set(size, [...(bySize.get(size) ?? []), key]);
  }
  const splits = Math.ceil(lanes / bySize.size);
  const processes = [...bySize.values()].flatMap((sizeCells) => {
    const parts = Array.from({ length: Math.min(splits, sizeCells.length) }, (): CellKey[] => []);
    sizeCells.forEach((key, index) => parts[index % parts.length]!.push(key));
    return parts;
  });
  const work = (keys: readonly CellKey[]) => keys.reduce((sum, key) => sum + idealMs(key), 0);
  return processes.map((keys, index) => ({ keys, index, ms: work(keys) })).sort((a, b) => b.ms - a.ms || a.index - b.index).map(({ keys }) => keys);
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

/** One warning for the cells, among those that judge the harness, where it fell behind the ideal. */
export function fidelityWarnings(cells: readonly Cell[], options: { deployedFunction?: boolean } = {}): string[] {
  const slow = judgedForFidelity(cells, options).filter((cell) => cell.fidelityRatio > FIDELITY_LIMIT);
  if (slow.length === 0) return [];
  const first = slow.reduce((a, b) => (b.concurrency < a.concurrency ? b : a));
  const worst = slow.reduce((a, b) => (b.fidelityRatio > a.fidelityRatio ? b : a));
  return [
    `Fidelity: from concurrency ${first.concurrency} (${first.memoryMb} MB) the replay took ${first.fidelityRatio.toFixed(2)}x its ideal makespan (limit ${FIDELITY_LIMIT}); the harness itself became the bottleneck there. Worst: ${worst.fidelityRatio.toFixed(2)}x at concurrency ${worst.concurrency}, ${worst.memoryMb} MB. Durations of ${slow.length} cell(s) overstate what the job would take.`,
  ];
}

export function failureWarnings(cells: readonly Cell[]): string[] {
  return cells
    .filter((cell) => cell.state !== 'completed')
    .map((cell) => `${describeCell(cell)} ended as ${cell.state}: ${'error' in cell ? cell.error : ''}`);
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
  const cellModel: CellModelInputs = {
    replay: {
      timeScale: plan.timeScale,
      throttled: cpuLimit !== undefined,
      cores,
      // A deployed function brings its own client; a Node job uses undici or fetch, which give up idle connections early.
      ...(net ? { idleTimeoutMs: replayIdleTimeoutMs(plan.functionSpec === undefined) } : {}),
    },
    parse: await measureParseCost(plan.scenario),
    // Real connections cost the client CPU per handshake; in process there are none.
    ...(net ? { connectCpuMs: (await measureConnectCost({ library: plan.scenario.client.library, tls: usesTls(plan.scenario) })).connectCpuMs } : {}),
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
    method: methodOf(plan, cpuLimit, placement, loopback, cellModel.connectCpuMs),
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
      ? await openFence(certificates ? { scenario: plan.scenario, timeScale, certificates } : undefined, [], databaseRoute(plan.scenario, process.env, timeScale))
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
        { heapMb: heapLimitMb(key.memoryMb), ...(quota ? { confine: (pid) => quota.attach(pid) } : {}) },
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
      for (;;) {
        const state = raceState(inOrder(), race.recommend, race);
        // Only cells measured by this process can take more repetitions (a resumed cell's raw measurements are gone).
        const toMeasure = state?.toMeasure.filter((key) => runs.has(cellKeyId(key))) ?? [];
        if (toMeasure.length === 0 || toMeasure.length < (state?.toMeasure.length ?? 0)) break;
        const elapsedS = (performance.now() - sweepStarted) / 1000;
        if (elapsedS + roundEstimateS(toMeasure, (key) => done.get(cellKeyId(key)), plan.timeScale, parallelCells) > race.budgetS) break;
        progress.addRound(toMeasure.length, `race: ${toMeasure.length} contenders, ${ROUND_REPS} more repetitions each (${Math.round(elapsedS)} s of the ${race.budgetS} s budget)`);
        await runPool(planProcesses(toMeasure, parallelCells, idealOf, share), parallelCells, (keys) => measureCells(keys, ROUND_REPS));
      }
      // The finalists once more in real time, in Lambda's 20 ms throttling periods, where time scaling applied.
      const finalists = plan.timeScale > 1 && controller ? finalistsOf(raceState(inOrder(), race.recommend, race)) : [];
      const elapsedS = (performance.now() - sweepStarted) / 1000;
      const confirmS = confirmEstimateS(finalists, (key) => done.get(cellKeyId(key)), parallelCells);
      if (finalists.length > 0 && elapsedS + confirmS <= race.budgetS) {
        progress.addRound(finalists.length, `confirming ${finalists.length} finalist(s) in real time, throttled in 20 ms periods as on Lambda`);
        await runPool(finalists.map((key) => [key]), parallelCells, (keys) => measureCells(keys, 1, true));
      } else if (finalists.length > 0) {
        unconfirmedNote = `The finalists were not confirmed in real time: that takes about ${Math.round(confirmS)} s, and ${Math.max(0, Math.round(race.budgetS - elapsedS))} s of the ${race.budgetS} s budget were left; raise --budget to confirm them.`;
      }
    }
  } finally {
    progress.stop();
    certificates?.remove();
  }
  results.cells = inOrder();
  results.warnings = [...fidelityWarnings(results.cells, { deployedFunction: plan.functionSpec !== undefined }), ...modelWarnings(results.cells), ...failureWarnings(results.cells), ...confirmationWarnings(results.cells)];
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

/** The cells to confirm in real time: the winner, and its equivalents (at most 2 in all). */
export function finalistsOf(state: ReturnType<typeof raceState>): CellKey[] {
  if (!state) return [];
  const { winner } = state.picked;
  const equivalents = state.rivals.filter((rival) => rival.verdict === 'equivalent').map((rival) => rival.key);
  return [{ concurrency: winner.concurrency, memoryMb: winner.memoryMb, architecture: winner.architecture }, ...equivalents].slice(0, MAX_FINALISTS);
}

const MAX_FINALISTS = 2;

/** Confirming takes a warm-up and one invocation in real time per finalist, plus the process start. */
export function confirmEstimateS(keys: readonly CellKey[], cellOf: (key: CellKey) => Cell | undefined, lanes: number): number {
  return spreadOverLanes(keys, cellOf, lanes, (medianMs) => (2 * medianMs) / 1000 + ROUND_PROCESS_S);
}

/** Seconds of the cells' work (from each one's median duration, 0 if unknown) shared out over the lanes. */
function spreadOverLanes(keys: readonly CellKey[], cellOf: (key: CellKey) => Cell | undefined, lanes: number, secondsFor: (medianMs: number) => number): number {
  const total = keys.reduce((sum, key) => {
    const cell = cellOf(key);
    return sum + secondsFor(cell && isCompleted(cell) ? cell.durationMs.median : 0);
  }, 0);
  return total / Math.max(1, Math.min(lanes, keys.length));
}

/**
 * The finalists' real-time runs against their time-scaled medians, pooled: the finalists are the
 * winner and settings equivalent to it, so each confirmation is another look at the same
 * question, and one real-time repetition alone varies by several percent. A warning when their
 * mean deviation is beyond 5%.
 */
export function confirmationWarnings(cells: readonly Cell[]): string[] {
  const confirmed = cells.filter((cell): cell is CompletedCell & { confirmed: NonNullable<CompletedCell['confirmed']> } => isCompleted(cell) && cell.confirmed !== undefined);
  if (confirmed.length === 0) return [];
  const pooled = confirmed.reduce((sum, cell) => sum + cell.confirmed.deviation, 0) / confirmed.length;
  if (Math.abs(pooled) <= CONFIRMATION_TOLERANCE) return [];
  const signed = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const each = confirmed.map((cell) => `${describeCell(cell)}: ${(cell.confirmed.durationMs / 1000).toFixed(2)} s against ${(cell.durationMs.median / 1000).toFixed(2)} s (${signed(cell.confirmed.deviation)})`);
  return [
    `Confirmation: real-time runs of the finalists, throttled as Lambda throttles, took ${signed(pooled)} against their time-scaled medians (${each.join('; ')}): time scaling distorts this job here; sweep the contenders again with --time-scale 1 (and --concurrency/--memory narrowed to them) for durations to deploy on.`,
  ];
}

/** How far a confirmation may stray from the raced median before the sweep warns. */
export const CONFIRMATION_TOLERANCE = 0.05;

/** Process start and warm-up of a round's cell process, s: a rough allowance on this project's machine. */
const ROUND_PROCESS_S = 1.5;

/**
 * How long a race round will take, s: each cell's median duration in real time (scenario time
 * divided by the time scale) for ROUND_REPS invocations, plus a process start for each, spread
 * over the lanes.
 */
export function roundEstimateS(keys: readonly CellKey[], cellOf: (key: CellKey) => Cell | undefined, timeScale: number, lanes: number): number {
  return spreadOverLanes(keys, cellOf, lanes, (medianMs) => (medianMs / timeScale / 1000) * ROUND_REPS + ROUND_PROCESS_S);
}

/**
 * The cells in the order to measure them: the longest (by ideal makespan) first, so that cells
 * measured side by side finish together instead of one long cell running alone at the end. Ties
 * keep the grid's order.
 */
export function longestFirst(cells: readonly CellKey[], idealMs: (key: CellKey) => number): CellKey[] {
  return cells
    .map((key, index) => ({ key, index, ms: idealMs(key) }))
    .sort((a, b) => b.ms - a.ms || a.index - b.index)
    .map(({ key }) => key);
}

/**
 * Runs `task` on every item, at most `width` at a time, in order of the items. After the first
 * failure no new item starts; the ones running finish, then the failure is thrown.
 */
export async function runPool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
  if (failure) throw failure.error;
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
