import { newCommand, parseNumber, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { comparePowerTuning, formatPowerTuningTable, readPowerTuningOutput } from '../harness/production/power-tuning.ts';
import { loadResults } from '../harness/results/io.ts';
import { readJsonFile } from '../harness/scenario/load.ts';

interface Options {
  results: string;
  json?: boolean;
  concurrency?: string;
}

await runCli(() => {
  const program = newCommand('import-power-tuning')
    .description("Hold AWS Lambda Power Tuning's measured durations against the sweep's predictions at the same memory sizes and concurrency")
    .argument('<output>', "Power Tuning's output: the state machine's execution output, or aws stepfunctions describe-execution's JSON")
    .requiredOption('--results <file>', 'results file written by npm run sweep')
    .option('--concurrency <n>', 'the concurrency the function ran at during the Power Tuning run (default: the recommended one)')
    .option('--json', 'print [{ "memoryMb", "measuredMs", "predictedMs", "error" }] instead of the table')
    .parse(process.argv);
  const [outputFile] = program.args as [string];
  const options = program.opts<Options>();

  const concurrencyFlag = options.concurrency === undefined ? undefined : parseNumber('--concurrency', options.concurrency, 1, 10_000, true);
  const measurements = readPowerTuningOutput(readJsonFile(outputFile, 'Power Tuning output'), outputFile);
  const results = loadResults(options.results);
  const concurrency = concurrencyFlag ?? results.recommendation?.concurrency;
  if (concurrency === undefined) {
    throw new InputError({
      file: options.results,
      field: 'recommendation',
      problem: 'is absent, so the concurrency Power Tuning ran at is unknown',
      fix: 'pass --concurrency N, the concurrency the function ran at',
    });
  }
  const rows = comparePowerTuning(results.cells, measurements, { concurrency, architecture: results.recommendation?.architecture ?? results.scenario.lambda.architecture });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    process.stdout.write(formatPowerTuningTable(rows, { outputFile, resultsFile: options.results, concurrency }));
  }
  const missing = rows.filter((row) => row.predictedMs === null).map((row) => row.memoryMb);
  if (missing.length) {
    process.stderr.write(`note: no completed cell at ${concurrency} workers and ${missing.join(', ')} MB in ${options.results}: sweep them to compare\n`);
  }
});
