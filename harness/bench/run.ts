import { availableParallelism, loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { MODEL_TOLERANCE } from '../analyze/model-check.ts';
import { DEFAULT_OVERHEAD_MS } from '../model/calibrate.ts';
import { measureParseCost } from '../run/parse-cost.ts';
import { loadScenario } from '../scenario/load.ts';
import { gridCells } from '../sweep/shard.ts';
import { simulateSweep } from '../sweep/simulated.ts';
import { BENCH_HOST } from './overhead-spec.ts';
import { createCertificates } from '../isolate/tls.ts';
import { namespaceSupport } from '../isolate/fence.ts';
import { measureNet } from './net-overhead.ts';
import type { NetClient, NetServer, NetSpec } from './net-spec.ts';
import { netRow, type NetRow } from './net-summary.ts';
import { measureOverhead } from './overhead.ts';
import type { OverheadHarness, OverheadSpec } from './overhead-spec.ts';
import { benchTargets, clientOverheadUs, overheadRow, RSS_JUDGED_AT_MB, timeScaleRows, type BenchResults, type OverheadRow } from './summary.ts';
import { sweepForValidation, timeDefaultSweep, validationOf, type Validation, type ValidationRun } from './validation.ts';

export interface BenchOptions {
  toolVersion: string;
  log: (line: string) => void;
}

const SEED_FILE = 'scenarios/seed-case-study.json';
const HARNESSES: readonly OverheadHarness[] = ['undici', 'msw', 'naive', 'naive-mock', 'fetch-client'];
const CONCURRENCIES = [1, 10, 100, 1000] as const;
/**
 * The fetch client alone and the naive mock on the built-in job are read against the msw backend
 * where it is judged: at 100 and 1000.
 */
const concurrenciesOf = (harness: OverheadHarness): readonly number[] => (harness === 'fetch-client' || harness === 'naive-mock' ? [100, 1000] : CONCURRENCIES);

/**
 * Where the overhead targets are judged (c >= 100), every harness is measured this many times, in
 * rounds that measure each harness once, one right after the other, and the targets read the
 * median. Between two runs of one measurement at c = 100 the ratio to the ideal moved by up to
 * 0.02 on this machine (1.062 and 1.041 for the msw backend, 25 s apart), half of the msw
 * backend's whole distance from the ideal: one run each would judge the noise.
 */
export const ROUNDS = 3;
const roundsAt = (concurrency: number) => (concurrency >= 100 ? ROUNDS : 1);

/** N = 2000 where it takes seconds; fewer at concurrency 1 and 10, where 2000 x 50 ms would take minutes. */
export function overheadSpec(harness: OverheadHarness, concurrency: number): OverheadSpec {
  const requests = concurrency === 1 ? 100 : concurrency === 10 ? 1000 : 2000;
  return { harness, concurrency, requests, latencyMs: 50, bodyBytes: 10 * 1024, reps: concurrency >= 100 ? 5 : 2 };
}

/**
 * The net rows: N = 2000 at c = 100 and 1000 as the issue asks; at c = 1 and 10, 2000 x 50 ms
 * would take 100 s and 10 s per invocation, so 20 and 200 requests (20 rounds, 1 s ideal each)
 * keep the whole net part (16 measurements, each with its own fence) near two minutes here.
 */
export function netSpec(server: NetServer, client: NetClient, concurrency: number): NetSpec {
  const requests = concurrency === 1 ? 20 : concurrency === 10 ? 200 : 2000;
  return { server, client, concurrency, requests, latencyMs: 50, bodyBytes: 10 * 1024, reps: netReps(concurrency) };
}

/**
 * At c = 1000 one invocation (100 ms ideal) takes 2.7 to 5.4 times that on this machine, on the
 * floor as on net, so a median of 5 moved the net/floor ratio by 0.1 between quiet runs; 9 cost
 * about a second more per measurement.
 */
function netReps(concurrency: number): number {
  return concurrency >= 1000 ? 9 : concurrency >= 100 ? 5 : 2;
}

/**
 * Every (client, concurrency) on the net backend and on the floor, one right after the other so
 * that whatever else loads the machine meets both alike. Empty where no fence can be made.
 */
export async function runNetBench(log: (line: string) => void): Promise<{ rows: NetRow[]; seconds: number }> {
  const support = namespaceSupport();
  if (!support.available) {
    log(`net: skipped, ${support.reason}`);
    return { rows: [], seconds: 0 };
  }
  const started = performance.now();
  // Plain http:// only: the fence asks for a leaf per host, which no listener here uses.
  const certificates = createCertificates([BENCH_HOST]);
  const rows: NetRow[] = [];
  try {
    for (const client of ['undici', 'fetch'] as const) {
      for (const concurrency of CONCURRENCIES) {
        for (const server of ['net', 'floor'] as const) {
          const row = netRow(await measureNet(netSpec(server, client, concurrency), certificates));
          rows.push(row);
          log(
            `net ${server} ${client} c=${concurrency}: ${row.ratio.toFixed(2)}x ideal, server ${row.serverCpuUsPerRequest.toFixed(0)} us/request, job ${row.jobCpuUsPerRequest.toFixed(0)} us/request, ${row.peakRssMb.toFixed(0)} MB`,
          );
        }
      }
    }
  } finally {
    certificates.remove();
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** The bundled scenarios, each on a part of its grid small enough to sweep in real time within the bench. */
export function validationRuns(): ValidationRun[] {
  const scenario = (name: string) => loadScenario(`scenarios/${name}.json`);
  return [
    { scenario: scenario('small-fast'), concurrency: [1, 2, 4, 8, 16], memoryMb: [1769], reps: 2, timeScale: 1 },
    { scenario: scenario('rate-limited'), concurrency: [1, 4, 16], memoryMb: [1769], reps: 2, timeScale: 1 },
    // Serial, moderate and high concurrency, at the smallest size (CPU share 7%) and at a whole core.
    { scenario: scenario('seed-case-study'), concurrency: [1, 8, 60], memoryMb: [128, 1769], reps: 2, timeScale: 1 },
  ];
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const { log } = options;
  const startedAt = new Date().toISOString();

  const overhead: OverheadRow[] = [];
  const measure = async (spec: OverheadSpec, round: number, of: number) => {
    const row = overheadRow(await measureOverhead(spec), round);
    overhead.push(row);
    log(
      `overhead ${spec.harness} c=${spec.concurrency}${spec.lambdaMemoryMb ? ` (a ${spec.lambdaMemoryMb} MB cell's heap)` : ''}${of > 1 ? `, round ${round} of ${of}` : ''}: ${row.ratio.toFixed(2)}x ideal, ${row.cpuUsPerRequest.toFixed(0)} us CPU/request, ${row.peakRssMb.toFixed(0)} MB`,
    );
  };
  for (const concurrency of CONCURRENCIES) {
    const of = roundsAt(concurrency);
    for (let round = 1; round <= of; round++) {
      for (const harness of HARNESSES) if (concurrenciesOf(harness).includes(concurrency)) await measure(overheadSpec(harness, concurrency), round, of);
    }
  }
  // The peak RSS at c = 1000 again, as a sweep's cell of the smallest size runs: V8 sizes its
  // collections by the heap Lambda gives that size.
  for (let round = 1; round <= ROUNDS; round++) {
    for (const harness of ['undici', 'msw', 'fetch-client'] as const)
      await measure({ ...overheadSpec(harness, 1000), lambdaMemoryMb: RSS_JUDGED_AT_MB }, round, ROUNDS);
  }

  const net = await runNetBench(log);
  log(`net part: ${net.seconds.toFixed(0)} s`);

  const validation: Validation[] = [];
  let seedReal: Validation | undefined;
  for (const run of validationRuns()) {
    const { results, sweepS } = await sweepForValidation(run, options.toolVersion);
    const v = validationOf(results, sweepS, MODEL_TOLERANCE);
    validation.push(v);
    if (run.scenario.name === 'seed-case-study') seedReal = v;
    log(`validated ${v.scenario} (${v.cells.length} cells, ${sweepS.toFixed(0)} s)`);
  }

  const seed = loadScenario(SEED_FILE);
  // The default sweep as a user runs it; its cells that the real-time sweep also measured are compared.
  const defaultSweep = timeDefaultSweep(SEED_FILE);
  const scaled = validationOf(defaultSweep.results, defaultSweep.sweepS, MODEL_TOLERANCE);
  log(`default sweep of ${seed.name}: ${defaultSweep.results.cells.length} cells at x${seed.sweep.timeScale} in ${defaultSweep.sweepS.toFixed(0)} s`);

  // The simulator on the seed scenario's whole default grid, as --simulate runs it.
  const parse = await measureParseCost(seed, { timeMsPerSize: 20 });
  const cells = gridCells({ concurrency: seed.sweep.concurrency, memoryMb: seed.sweep.memoryMb, architecture: seed.lambda.architecture });
  const simulation = new Bench({ time: 1000, iterations: 5 });
  simulation.add('grid', () => {
    simulateSweep({
      scenario: seed,
      grid: { concurrency: seed.sweep.concurrency, memoryMb: seed.sweep.memoryMb },
      cells,
      calibration: { model: { overheadMs: DEFAULT_OVERHEAD_MS[seed.client.library], parse }, source: 'bench' },
      toolVersion: options.toolVersion,
      env: { node: process.version, platform: process.platform, cpus: availableParallelism(), commit: '', branch: '' },
      startedAt,
    });
  });
  await simulation.run();
  const result = simulation.tasks[0]!.result;
  const gridMs = result.state === 'completed' ? result.latency.mean : Number.NaN;

  const bench: Omit<BenchResults, 'targets'> = {
    schemaVersion: 1,
    tool: { name: 'fanout-tuner', version: options.toolVersion },
    startedAt,
    finishedAt: new Date().toISOString(),
    env: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: availableParallelism(), loadAverage: loadavg() },
    overhead,
    net: net.rows,
    netS: net.seconds,
    validation,
    timeScale: {
      scenario: seed.name,
      timeScale: seed.sweep.timeScale,
      realSweepS: seedReal?.sweepS ?? Number.NaN,
      scaledSweepS: scaled.sweepS,
      scaledCells: defaultSweep.results.cells.length,
      parallelCells: defaultSweep.results.method.parallelCells ?? 1,
      rows: seedReal ? timeScaleRows(seedReal, scaled) : [],
    },
    simulator: { scenario: seed.name, cells: cells.length, gridMs },
    clientOverheadUs: clientOverheadUs(overhead),
  };
  return { ...bench, targets: benchTargets(bench) };
}
