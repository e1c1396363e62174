import { Option } from 'commander';
import { parseIntegerList, parseNumber, newCommand, runCli } from '../harness/cli.ts';
import { DEFAULT_SCENARIO, defaultScenarioFile, loadScenario } from '../harness/scenario/load.ts';
import { createProgress } from '../harness/sweep/progress.ts';
import { gridCells, parseShard, selectShard } from '../harness/sweep/shard.ts';
import { availableParallelism } from 'node:os';
import { ISOLATION_MODES, type IsolationMode } from '../harness/isolate/fence.ts';
import { checkWritable, choosePlacement, finishSweep, runSweep, THROTTLE_MODES, type ThrottleMode } from '../harness/sweep/sweep.ts';
import { defaultParallelCells, defaultTimeScale, NET_MAX_TIME_SCALE, processesPerCell } from '../harness/sweep/schedule.ts';
import { describeEnvironment } from '../harness/results/environment.ts';
import { simulateSweep } from '../harness/sweep/simulated.ts';
import { lockOutput } from '../harness/sweep/lock.ts';
import { measureParseCost } from '../harness/run/parse-cost.ts';
import { DEFAULT_OVERHEAD_MS, overheadFromCells } from '../harness/model/calibrate.ts';
import { loadResults } from '../harness/results/io.ts';
import { LIMITS, type Scenario } from '../harness/scenario/schema.ts';
import type { Grid, Results } from '../harness/results/schema.ts';
import type { CellKey } from '../harness/results/cell-key.ts';
import type { Shard } from '../harness/sweep/shard.ts';
import { formatSummaryTable } from '../harness/report/terminal.ts';
import { simulatorTrust } from '../harness/report/simulator.ts';
import { InputError } from '../harness/errors.ts';
import { DEFAULT_MAX_ERROR_RATE, recommend, STRATEGIES } from '../harness/analyze/recommend.ts';
import { regionPrices } from '../harness/model/pricing.ts';
import { checkReportTargets } from '../harness/report/targets.ts';
import { parseSetting } from '../harness/report/summary.ts';
import type { Setting } from '../harness/report/cell-views.ts';
import { toolVersion } from '../harness/version.ts';
import { concludeSweep } from '../harness/sweep/conclude.ts';
import { DEFAULT_BUDGET_S, DEFAULT_EQUIVALENCE } from '../harness/analyze/race.ts';
import { preflight, scenarioDirOf } from '../harness/workload/preflight.ts';
import { isFunctionWorkload, resolveFunction, type FunctionSpec } from '../harness/workload/function-spec.ts';
import { BACKENDS, libraryFor, type BackendName } from '../harness/mock/choose-backend.ts';
import { readProductionLogs } from '../harness/production/read.ts';
import {
  coldStartNote,
  coldStarts,
  logsMemorySize,
  priceColdStarts,
  productionSentence,
  recordsAt,
  requireInGrid,
  summarizeProduction,
  todaySetting,
  withProduction,
} from '../harness/production/compare.ts';

const program = newCommand('sweep')
  .description('Replay the job of a scenario at each concurrency x memory size, write the results and print the summary')
  .argument('[scenario]', `scenario file (default: ${DEFAULT_SCENARIO}, or the seed this package carries when there is none)`)
  .option('--concurrency <list>', "concurrency levels (max_workers), e.g. 1,2,4,8 (default: the scenario's sweep.concurrency)")
  .option('--memory <list>', "Lambda memory sizes in MB, 128 to 10240 (default: the scenario's sweep.memoryMb)")
  .option(
    '--reps <n|auto>',
    `timed repetitions per cell (1 to ${LIMITS.reps}), or auto: one each, then more only for the contenders until the pick is decided or --budget is spent (default: auto; with --shard, the scenario's sweep.reps)`,
  )
  .option('--budget <s>', 'with --reps auto: wall seconds after which no further race round starts', String(DEFAULT_BUDGET_S))
  .option(
    '--equivalence <share>',
    "with --reps auto: settings closer than this on the strategy's metric are equivalent, e.g. 2% or 0.02",
    `${DEFAULT_EQUIVALENCE * 100}%`,
  )
  .option(
    '--time-scale <s>',
    `run latencies s times shorter and scale durations back, 1 to ${LIMITS.timeScale} (default: the scenario's sweep.timeScale, at most ${NET_MAX_TIME_SCALE} with --backend net)`,
  )
  .option('--seed <n>', 'override the scenario seed')
  .option('--out <file>', 'results file (default: results/<scenario name>.json)')
  .option('--shard <i/n>', 'run the i-th of n deterministic parts of the grid (merge them with npm run merge)')
  .option(
    '--parallel <n>',
    'cells measured at once, each in its own process with its share of the cores (default: one per core, one per two cores with --backend net, whose servers need a core beside the job; 1 when rows go to a real database or parsing uses worker threads)',
  )
  .option('--resume', 'continue a sweep that was interrupted, from its journal beside --out')
  .option('--report <file>', 'HTML report (default: reports/<scenario name>.html)')
  .option(
    '--current <CxM>',
    'the settings deployed today, e.g. 60x1024, to compare against in the report (default for a function read from its template: its MemorySize and concurrency variable)',
  )
  .option('--no-report', 'skip the HTML report, SVG charts and Markdown summary')
  .option(
    '--production <logs>',
    "CloudWatch logs of today's function (REPORT lines or platform.report events; a file, or - for stdin): hold the prediction at today's setting against them, and bill their INIT at their cold-start rate",
  )
  .addOption(
    new Option(
      '--backend <name>',
      "how the hosts are served: net (real loopback TCP/TLS servers in each cell's network namespace, the job's client from client.library), msw (in-process, global fetch) or undici (in-process, undici.request) (default: msw or undici from the scenario's client.library)",
    ).choices(BACKENDS),
  )
  .addOption(
    new Option(
      '--isolation <mode>',
      'fence each cell in a network namespace where only the scenario exists: auto (where this machine allows it), namespace (or fail), none',
    )
      .choices(ISOLATION_MODES)
      .default('auto'),
  )
  .option(
    '--threads <n>',
    "parse on a worker pool of n threads, 0 on the event loop (default: the scenario's work.threads); compare two sweeps to see what threads buy",
  )
  .option('--simulate', 'answer the grid with the simulator instead of replays (under a second; writes results/<scenario name>.simulated.json)')
  .option('--calibrate-from <results>', 'with --simulate: take the client overhead per request from a real sweep of this scenario')
  .addOption(
    new Option('--cpu-throttle <mode>', 'how memory sizes limit the CPU: a cgroup quota, the model, or not at all (auto: cgroup where writable, else model)')
      .choices(THROTTLE_MODES)
      .default('auto'),
  )
  .addOption(new Option('--strategy <name>', 'what the recommendation minimises').choices(STRATEGIES).default('cost'))
  .option('--weight <w>', 'balanced only: weight of cost against duration, 0 (speed) to 1 (cost)')
  .option('--max-error-rate <rate>', `recommend only settings whose share of failed requests is at most this (default: ${DEFAULT_MAX_ERROR_RATE})`);

await runCli(async () => {
  program.parse();
  const options = program.opts<Record<string, string | boolean | undefined>>();
  const file = program.args[0] ?? defaultScenarioFile();
  let scenario = loadScenario(file);
  if (typeof options.seed === 'string') scenario = { ...scenario, seed: parseNumber('--seed', options.seed, 0, 2 ** 31 - 1, true) };
  const backend = typeof options.backend === 'string' ? (options.backend as BackendName) : undefined;
  if (backend && backend !== 'net') scenario = { ...scenario, client: { ...scenario.client, library: libraryFor(backend) } };
  if (typeof options.threads === 'string') {
    scenario = { ...scenario, work: { ...scenario.work, threads: parseNumber('--threads', options.threads, 0, LIMITS.threads, true) } };
  }
  const throttle = options.cpuThrottle as ThrottleMode;
  const concurrency =
    typeof options.concurrency === 'string' ? parseIntegerList('--concurrency', options.concurrency, 1, 10_000, LIMITS.gridValues) : scenario.sweep.concurrency;
  const memoryMb = typeof options.memory === 'string' ? parseIntegerList('--memory', options.memory, 128, 10_240, LIMITS.gridValues) : scenario.sweep.memoryMb;
  const fixedReps = typeof options.reps === 'string' && options.reps !== 'auto' ? parseNumber('--reps', options.reps, 1, LIMITS.reps, true) : undefined;
  // A shard cannot see the cells of the others it would race against: it keeps a fixed count.
  const racing = fixedReps === undefined && !(typeof options.shard === 'string' && options.reps !== 'auto');
  if (options.reps === 'auto' && typeof options.shard === 'string') {
    throw new InputError({
      field: '--reps',
      problem: 'auto races the cells of the whole grid, which a shard does not see',
      fix: 'give a number of repetitions with --shard, e.g. --reps 3',
    });
  }
  const reps = fixedReps ?? (racing ? 1 : scenario.sweep.reps);
  const budgetS = parseNumber('--budget', String(options.budget), 1, 86_400);
  const equivalence = parseShare('--equivalence', String(options.equivalence));
  const timeScaleGiven = typeof options.timeScale === 'string' ? parseNumber('--time-scale', options.timeScale, 1, LIMITS.timeScale) : undefined;
  const simulated = options.simulate === true;
  if (!simulated && typeof options.calibrateFrom === 'string') {
    throw new InputError({ field: '--calibrate-from', problem: 'only calibrates the simulator', fix: 'add --simulate, or leave out --calibrate-from' });
  }
  if (simulated && options.resume === true) {
    throw new InputError({ field: '--resume', problem: 'a simulated sweep has nothing to resume', fix: 'leave out --resume' });
  }
  const outFile = typeof options.out === 'string' ? options.out : `results/${scenario.name}${simulated ? '.simulated' : ''}.json`;
  const reportFile = typeof options.report === 'string' ? options.report : `reports/${scenario.name}${simulated ? '.simulated' : ''}.html`;
  const shard = typeof options.shard === 'string' ? parseShard(options.shard) : undefined;
  const grid = gridCells({ concurrency, memoryMb, architecture: scenario.lambda.architecture });
  const recommendOptions = {
    strategy: String(options.strategy),
    weight: typeof options.weight === 'string' ? parseNumber('--weight', options.weight, 0, 1) : undefined,
    maxErrorRate: typeof options.maxErrorRate === 'string' ? parseNumber('--max-error-rate', options.maxErrorRate, 0, 1) : DEFAULT_MAX_ERROR_RATE,
    lambdaTimeoutS: scenario.lambda.timeoutS,
  };
  // Refuse what would only fail after the sweep (bad options, an unknown region) before it starts.
  recommend([], recommendOptions);
  regionPrices(scenario.lambda.region);
  const current = typeof options.current === 'string' ? parseSetting(options.current) : undefined;
  // The function's own files first: a wrong handler or template names its field on any machine,
  // before whether this one can fence and limit a function at all.
  const resolved = isFunctionWorkload(scenario.workload) ? resolveFunction(scenario, file) : undefined;
  // The logs too: a file without a REPORT record, or today's setting outside the grid, on any machine.
  const production = typeof options.production === 'string' ? readProduction(options.production, shard, { current, functionSpec: resolved }) : undefined;
  if (production) requireInGrid(production.setting, { concurrency, memoryMb });
  const placement = simulated ? undefined : choosePlacement({ scenario, ...(backend ? { backend } : {}), isolation: options.isolation as IsolationMode });
  if (placement?.fallback) process.stderr.write(`fanout-tuner: ${placement.fallback}\n`);
  const timeScale = timeScaleGiven ?? defaultTimeScale(scenario, placement?.backend);
  const functionSpec = await preflight(scenario, file, { fenced: placement?.fenced === true });
  if (functionSpec && timeScale !== 1) {
    throw new InputError({
      file,
      field: typeof options.timeScale === 'string' ? '--time-scale' : 'sweep.timeScale',
      problem: "a deployed function runs in real time: its own timeouts, waits and retries do not shrink with the scenario's latencies",
      fix: 'set sweep.timeScale to 1, or pass --time-scale 1',
    });
  }

  const cells = shard ? selectShard(grid, shard, { weight: (cell) => 1 / cell.concurrency }) : grid;
  const parallelCells =
    typeof options.parallel === 'string'
      ? parseNumber('--parallel', options.parallel, 1, availableParallelism(), true)
      : defaultParallelCells(scenario, cells.length, availableParallelism(), processesPerCell(placement?.backend));
  const starts = production ? coldStarts(production.reports) : undefined;
  // Once every input is known good: results or a report that could not be written are refused
  // now, not after the sweep, and one sweep at a time writes to a results file (the lock goes
  // when this process ends).
  checkWritable(outFile);
  if (options.report !== false) checkReportTargets(reportFile, '--report');
  lockOutput(outFile);
  const results = simulated
    ? await simulateCli(scenario, { grid: { concurrency, memoryMb }, shard, cells, outFile, calibrateFrom: options.calibrateFrom })
    : await runSweep(
        {
          scenario,
          grid: { concurrency, memoryMb },
          ...(shard ? { shard } : {}),
          cells,
          reps,
          timeScale,
          outFile,
          resume: options.resume === true,
          cpuThrottle: throttle,
          parallelCells,
          toolVersion: toolVersion(),
          scenarioDir: scenarioDirOf(file),
          placement: placement!,
          ...(functionSpec ? { functionSpec } : {}),
          ...(racing ? { race: { budgetS, equivalence, recommend: recommendOptions } } : {}),
          ...(starts ? { coldStarts: starts } : {}),
        },
        createProgress(),
      );
  if (production && starts) {
    // Again over every cell: a resumed sweep's cells from its journal were priced by an earlier run.
    results.cells = priceColdStarts(results.cells, scenario, starts);
    const note = coldStartNote(starts, production.file);
    if (note) results.method.notes.push(note);
  }
  const concluded = concludeSweep(results, { recommend: recommendOptions, equivalence, simulated, ...(racing ? { budgetS } : {}) });
  const finished = production
    ? withProduction(
        concluded,
        summarizeProduction(production.reports, { source: production.file, setting: production.setting, cells: concluded.cells, scenario }),
      )
    : concluded;
  finishSweep(outFile, finished);

  console.log(formatSummaryTable(finished));
  for (const warning of finished.warnings) console.log(`warning: ${warning}`);
  if (finished.recommendation) {
    const { concurrency, memoryMb, architecture, why } = finished.recommendation;
    console.log(`\nrecommended: MAX_WORKERS=${concurrency}, ${memoryMb} MB ${architecture}\n${why}`);
  }
  if (finished.classification) console.log(`\njob: ${finished.classification.advice}`);
  if (finished.production) console.log(`production: ${productionSentence(finished.production)}`);
  const trust = simulatorTrust(finished);
  if (trust) console.log(`simulator: ${trust.sentence}`);
  console.log(`results: ${outFile}`);
  if (options.report !== false) {
    // A function read from its template: today's MemorySize and concurrency variable are the report's baseline.
    const deployed = functionSpec?.current;
    const baseline = current ?? (deployed?.memoryMb && deployed.concurrency ? { memoryMb: deployed.memoryMb, concurrency: deployed.concurrency } : undefined);
    // Vega loads in about a second: only when the report is written, so bad input is refused without it.
    const { writeReport } = await import('../harness/report/write.ts');
    const written = await writeReport(finished, { outFile: reportFile, ...(baseline ? { current: baseline } : {}) });
    console.log(`report:  ${written.htmlFile}`);
  }
});

/**
 * The REPORT records of --production and today's setting, read before the sweep starts so that a
 * file without a record, or a setting the grid leaves out, fails at once.
 */
function readProduction(file: string, shard: Shard | undefined, today: { current: Setting | undefined; functionSpec: FunctionSpec | undefined }) {
  if (shard) {
    throw new InputError({
      field: '--production',
      problem: 'a shard measures only part of the grid',
      fix: 'merge the shards, then pass --production to npm run report on the merged results',
    });
  }
  const all = readProductionLogs(file);
  const { memoryMb, leftOut } = logsMemorySize(all);
  const source = today.current
    ? { setting: today.current, field: '--current' }
    : { setting: today.functionSpec?.current, field: today.functionSpec?.source.template ?? '--current' };
  const setting = todaySetting(file === '-' ? 'stdin' : file, memoryMb, source);
  if (leftOut > 0) process.stderr.write(`fanout-tuner: ${file}: ${leftOut} REPORT records at other memory sizes than ${setting.memoryMb} MB left out\n`);
  return { file: file === '-' ? 'stdin' : file, setting, reports: recordsAt(all, setting.memoryMb) };
}

/** The grid from the simulator: calibrate (parse timed now, overhead from a real sweep or the default), simulate, say how long it took. */
async function simulateCli(
  scenario: Scenario,
  options: { grid: Grid; shard: Shard | undefined; cells: CellKey[]; outFile: string; calibrateFrom: unknown },
): Promise<Results> {
  checkWritable(options.outFile);
  const startedAt = new Date().toISOString();
  const began = performance.now();
  const parse = await measureParseCost(scenario, { timeMsPerSize: 20 });
  let overheadMs = DEFAULT_OVERHEAD_MS[scenario.client.library];
  let source = `the default for ${scenario.client.library}, measured by npm run bench`;
  if (typeof options.calibrateFrom === 'string') {
    const real = loadResults(options.calibrateFrom);
    if (real.scenario.work.parse !== scenario.work.parse || real.scenario.client.library !== scenario.client.library) {
      throw new InputError({
        file: options.calibrateFrom,
        field: 'scenario',
        problem: 'was measured with another parse or client library than this scenario',
        fix: 'pass results of a real sweep of this scenario',
      });
    }
    const measured = overheadFromCells(real.scenario, real.cells, parse);
    if (measured === undefined) {
      throw new InputError({
        file: options.calibrateFrom,
        field: 'cells',
        problem: 'has no completed cell to calibrate from',
        fix: 'pass results with completed cells',
      });
    }
    overheadMs = measured;
    source = `calibrated from the real sweep ${options.calibrateFrom}`;
  }
  const calibrated = performance.now();
  const results = simulateSweep({
    scenario,
    grid: options.grid,
    ...(options.shard ? { shard: options.shard } : {}),
    cells: options.cells,
    calibration: { model: { overheadMs, parse }, source },
    toolVersion: toolVersion(),
    env: describeEnvironment(),
    startedAt,
  });
  const done = performance.now();
  process.stderr.write(`simulated ${options.cells.length} cells in ${Math.round(done - calibrated)} ms (calibration ${Math.round(calibrated - began)} ms)\n`);
  return results;
}

/** A share given as a percentage (2%) or a fraction (0.02), in [0, 0.5]. */
function parseShare(flag: string, raw: string): number {
  const percent = raw.trim().endsWith('%');
  const value = parseNumber(flag, percent ? raw.trim().slice(0, -1) : raw, 0, percent ? 50 : 0.5);
  return percent ? value / 100 : value;
}
