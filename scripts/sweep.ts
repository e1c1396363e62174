import { Option } from 'commander';
import { parseIntegerList, parseNumber, newCommand, runCli } from '../harness/cli.ts';
import { DEFAULT_SCENARIO, loadScenario } from '../harness/scenario/load.ts';
import { createProgress } from '../harness/sweep/progress.ts';
import { gridCells, parseShard, selectShard } from '../harness/sweep/shard.ts';
import { finishSweep, runSweep } from '../harness/sweep/sweep.ts';
import { formatSummaryTable } from '../harness/report/terminal.ts';
import { InputError } from '../harness/errors.ts';
import { DEFAULT_MAX_ERROR_RATE, recommend, STRATEGIES } from '../harness/analyze/recommend.ts';
import { regionPrices } from '../harness/model/pricing.ts';
import { writeReport } from '../harness/report/write.ts';
import { parseSetting } from '../harness/report/summary.ts';
import { toolVersion } from '../harness/version.ts';
import { BACKENDS, libraryFor, type BackendName } from '../harness/mock/create.ts';

const program = newCommand('sweep')
  .description('Replay the job of a scenario at each concurrency x memory size, write the results and print the summary')
  .argument('[scenario]', 'scenario file', DEFAULT_SCENARIO)
  .option('--concurrency <list>', 'concurrency levels (max_workers), e.g. 1,2,4,8 (default: the scenario\'s sweep.concurrency)')
  .option('--memory <list>', 'Lambda memory sizes in MB, 128 to 10240 (default: the scenario\'s sweep.memoryMb)')
  .option('--reps <n>', 'timed repetitions per cell (default: the scenario\'s sweep.reps)')
  .option('--time-scale <s>', 'run latencies s times shorter and scale durations back (default: the scenario\'s sweep.timeScale)')
  .option('--seed <n>', 'override the scenario seed')
  .option('--out <file>', 'results file (default: results/<scenario name>.json)')
  .option('--shard <i/n>', 'run the i-th of n deterministic parts of the grid (merge them with npm run merge)')
  .option('--resume', 'continue a sweep that was interrupted, from its journal beside --out')
  .option('--report <file>', 'HTML report (default: reports/<scenario name>.html)')
  .option('--current <CxM>', 'the settings deployed today, e.g. 60x1024, to compare against in the report')
  .option('--no-report', 'skip the HTML report, SVG charts and Markdown summary')
  .addOption(new Option('--backend <name>', 'mock backend and the job\'s HTTP client: msw (global fetch) or undici (undici.request, cheapest) (default: from the scenario\'s client.library)').choices(BACKENDS))
  .option('--cpu-throttle <mode>', 'auto | cgroup | none: how memory sizes limit the CPU', 'auto')
  .addOption(new Option('--strategy <name>', 'what the recommendation minimises').choices(STRATEGIES).default('cost'))
  .option('--weight <w>', 'balanced only: weight of cost against duration, 0 (speed) to 1 (cost)')
  .option('--max-error-rate <rate>', 'recommend only settings whose share of failed requests is at most this', DEFAULT_MAX_ERROR_RATE);

await runCli(async () => {
  program.parse();
  const options = program.opts<Record<string, string | boolean | undefined>>();
  const file = program.args[0] ?? DEFAULT_SCENARIO;
  let scenario = loadScenario(file);
  if (typeof options.seed === 'string') scenario = { ...scenario, seed: parseNumber('--seed', options.seed, 0, 2 ** 31 - 1, true) };
  if (typeof options.backend === 'string') {
    scenario = { ...scenario, client: { ...scenario.client, library: libraryFor(options.backend as BackendName) } };
  }
  const throttle = String(options.cpuThrottle);
  if (!['auto', 'cgroup', 'none'].includes(throttle)) {
    throw new InputError({ field: '--cpu-throttle', problem: `"${throttle}" is not a mode`, fix: 'use auto, cgroup or none' });
  }
  const concurrency = typeof options.concurrency === 'string' ? parseIntegerList('--concurrency', options.concurrency, 1, 10_000) : scenario.sweep.concurrency;
  const memoryMb = typeof options.memory === 'string' ? parseIntegerList('--memory', options.memory, 128, 10_240) : scenario.sweep.memoryMb;
  const reps = typeof options.reps === 'string' ? parseNumber('--reps', options.reps, 1, 1000, true) : scenario.sweep.reps;
  const timeScale = typeof options.timeScale === 'string' ? parseNumber('--time-scale', options.timeScale, 1, 1000) : scenario.sweep.timeScale;
  const outFile = typeof options.out === 'string' ? options.out : `results/${scenario.name}.json`;
  const shard = typeof options.shard === 'string' ? parseShard(options.shard) : undefined;
  const grid = gridCells({ concurrency, memoryMb, architecture: scenario.lambda.architecture });
  const recommendOptions = {
    strategy: String(options.strategy),
    weight: typeof options.weight === 'string' ? parseNumber('--weight', options.weight, 0, 1) : undefined,
    maxErrorRate: parseNumber('--max-error-rate', String(options.maxErrorRate), 0, 1),
    lambdaTimeoutS: scenario.lambda.timeoutS,
  };
  // Refuse what would only fail after the sweep (bad options, an unknown region) before it starts.
  recommend([], recommendOptions);
  regionPrices(scenario.lambda.region);
  const current = typeof options.current === 'string' ? parseSetting(options.current) : undefined;

  const results = await runSweep(
    {
      scenario,
      grid: { concurrency, memoryMb },
      ...(shard ? { shard } : {}),
      cells: shard ? selectShard(grid, shard, { weight: (cell) => 1 / cell.concurrency }) : grid,
      reps,
      timeScale,
      outFile,
      resume: options.resume === true,
      cpuThrottle: throttle as 'auto' | 'cgroup' | 'none',
      toolVersion: toolVersion(),
    },
    createProgress(),
  );
  const outcome = recommend(results.cells, recommendOptions);
  results.recommendation = outcome.kind === 'picked' ? outcome.recommendation : null;
  if (outcome.kind === 'none') results.warnings.push(`No recommendation: ${outcome.message}`);
  finishSweep(outFile, results);

  console.log(formatSummaryTable(results));
  for (const warning of results.warnings) console.log(`warning: ${warning}`);
  if (outcome.kind === 'picked') {
    const { concurrency, memoryMb, architecture, why } = outcome.recommendation;
    console.log(`\nrecommended: MAX_WORKERS=${concurrency}, ${memoryMb} MB ${architecture}\n${why}`);
  }
  console.log(`results: ${outFile}`);
  if (options.report !== false) {
    const written = await writeReport(results, { outFile: typeof options.report === 'string' ? options.report : undefined, current });
    console.log(`report:  ${written.htmlFile}`);
  }
});
