import { Option } from 'commander';
import { DEFAULT_MAX_ERROR_RATE, STRATEGIES, type Picked } from '../harness/analyze/recommend.ts';
import { DEFAULT_EQUIVALENCE } from '../harness/analyze/race.ts';
import { recommendFromResults } from '../harness/sweep/conclude.ts';
import { newCommand, runCli } from '../harness/cli.ts';
import { applySettings, inferFileKind } from '../harness/deploy/apply.ts';
import { readDeploymentFile, writeDeploymentFile } from '../harness/deploy/files.ts';
import { deploymentSettings, formatSettings, parseSettingsFormat, SETTINGS_FORMATS, type DeploymentSettings } from '../harness/deploy/settings.ts';
import { EXIT, InputError } from '../harness/errors.ts';
import { loadResults } from '../harness/results/io.ts';
import { applyTarget, CONCURRENCY_VARIABLES, isFunctionWorkload } from '../harness/workload/function-spec.ts';
import { powerTuningInput } from '../harness/production/power-tuning.ts';

/** Not deployment config: the input of AWS Lambda Power Tuning's state machine, to verify the pick on AWS. */
const POWER_TUNING = 'power-tuning';

interface Flags {
  strategy: string;
  weight?: string;
  maxP95Ms?: string;
  maxErrorRate?: string;
  format?: string;
  apply?: string;
  function?: string;
}

function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new InputError({
      field: flag,
      problem: `"${raw}" is not a number`,
      fix: `pass a number, e.g. ${flag} ${flag === '--weight' || flag === '--max-error-rate' ? '0.5' : '10000'}`,
    });
  }
  return value;
}

function summary(picked: Picked, settings: DeploymentSettings): string {
  const { recommendation } = picked;
  return (
    `Recommended (${recommendation.strategy}): MAX_WORKERS=${settings.maxWorkers}, ${settings.memoryMb} MB ${settings.architecture}, timeout ${settings.timeoutS} s\n` +
    `${recommendation.why}\n`
  );
}

async function main(): Promise<number> {
  const program = newCommand('recommend')
    .description('Pick the concurrency and memory size to deploy from a sweep, and print or write them as deployment config.')
    .argument('<results>', 'results file written by npm run sweep')
    .addOption(new Option('--strategy <name>', 'what to minimise').choices(STRATEGIES).default('cost'))
    .option('--weight <w>', 'balanced only: weight of cost against duration, 0 (speed) to 1 (cost); default 0.5')
    .option('--max-p95-ms <ms>', 'only settings whose p95 duration is at most this')
    .option('--max-error-rate <rate>', `only settings whose share of failed requests is at most this, 0 to 1 (default: ${DEFAULT_MAX_ERROR_RATE})`)
    .addOption(
      new Option(
        '--format <format>',
        `print the settings as deployment config, or (${POWER_TUNING}) as the input of AWS Lambda Power Tuning's state machine`,
      ).choices([...SETTINGS_FORMATS, POWER_TUNING]),
    )
    .option(
      '--apply <file>',
      "write memory size and MAX_WORKERS (a function workload's own concurrency variable) into this SAM/CloudFormation template, serverless.yml or .tfvars",
    )
    .option('--function <name>', "the function to edit when the file defines several (default: the scenario's template function)");
  program.parse();
  const [resultsFile] = program.args as [string];
  const flags = program.opts<Flags>();

  const powerTuning = flags.format === POWER_TUNING;
  if (powerTuning && flags.apply !== undefined) {
    throw new InputError({
      field: '--apply',
      problem: `writes deployment config, not a ${POWER_TUNING} input`,
      fix: `run --apply and --format ${POWER_TUNING} as two commands`,
    });
  }
  const format = flags.format === undefined || powerTuning ? undefined : parseSettingsFormat(flags.format);
  if (flags.function !== undefined && flags.apply === undefined && format !== 'serverless') {
    throw new InputError({ field: '--function', problem: 'only applies with --apply or --format serverless', fix: 'add --apply FILE or drop --function' });
  }
  // Check the file to edit before any work, so a typo fails at once.
  const target = flags.apply === undefined ? undefined : { file: flags.apply, kind: inferFileKind(flags.apply), text: readDeploymentFile(flags.apply) };

  const results = loadResults(resultsFile);
  const race = results.method.race;
  const options = {
    strategy: flags.strategy,
    weight: numberFlag('--weight', flags.weight),
    maxP95Ms: numberFlag('--max-p95-ms', flags.maxP95Ms),
    maxErrorRate: numberFlag('--max-error-rate', flags.maxErrorRate) ?? DEFAULT_MAX_ERROR_RATE,
    lambdaTimeoutS: results.scenario.lambda.timeoutS,
  };
  const outcome = recommendFromResults(results, {
    recommend: options,
    equivalence: race?.equivalence ?? DEFAULT_EQUIVALENCE,
    ...(race ? { budgetS: race.budgetS } : {}),
  });
  if (results.finishedAt === undefined) {
    process.stderr.write(`warning: ${resultsFile}: the sweep has not finished; this covers the ${results.cells.length} cells measured so far\n`);
  }
  if (outcome.kind === 'none') {
    process.stderr.write(`${resultsFile}: ${outcome.message}\n`);
    return EXIT.failed;
  }

  if (powerTuning) {
    const { input, notes } = powerTuningInput(results, outcome, options);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(`${JSON.stringify(input, null, 2)}\n`);
    return EXIT.ok;
  }
  const settings = deploymentSettings(outcome.winner);
  if (target) {
    // Results of a function workload: edit its function and the variable it reads its concurrency from.
    const { functionName, concurrencyVariable } = applyTarget(results.scenario.workload, target, flags.function);
    const applied = applySettings(target.text, target.kind, settings, {
      ...(functionName !== undefined ? { functionName } : {}),
      ...(concurrencyVariable !== undefined ? { concurrencyVariable } : {}),
      file: target.file,
    });
    if (applied.text !== target.text) writeDeploymentFile(target.file, applied.text);
    process.stdout.write(`${target.file}:\n${applied.changes.map((change) => `  ${change}\n`).join('')}`);
    for (const warning of applied.warnings) process.stderr.write(`warning: ${target.file}: ${warning}\n`);
    if (isFunctionWorkload(results.scenario.workload) && target.kind !== 'tfvars' && concurrencyVariable === undefined) {
      process.stderr.write(
        `warning: ${target.file}: the function has none of ${CONCURRENCY_VARIABLES.join(', ')} and the scenario names no concurrencyVariable; wrote MAX_WORKERS\n`,
      );
    }
  }
  if (format) process.stdout.write(formatSettings(settings, format, { functionName: flags.function }));
  if (!target && !format) process.stdout.write(summary(outcome, settings));
  return EXIT.ok;
}

await runCli(main);
