import { newCommand, parseNumber, runCli } from '../harness/cli.ts';
import { formatPowerTuningTable } from '../harness/production/power-tuning.ts';
import { readPowerTuningView } from '../harness/production/read.ts';
import { loadResults } from '../harness/results/io.ts';

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

  const concurrency = options.concurrency === undefined ? undefined : parseNumber('--concurrency', options.concurrency, 1, 10_000, true);
  const results = loadResults(options.results);
  const view = readPowerTuningView(outputFile, results, options.results, concurrency);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(view.rows, null, 2)}\n`);
  } else {
    process.stdout.write(formatPowerTuningTable(view.rows, { outputFile, resultsFile: options.results, concurrency: view.concurrency }));
  }
  const missing = view.rows.filter((row) => row.predictedMs === null).map((row) => row.memoryMb);
  if (missing.length) {
    process.stderr.write(`note: no completed cell at ${view.concurrency} workers and ${missing.join(', ')} MB in ${options.results}: sweep them to compare\n`);
  }
});
