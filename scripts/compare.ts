import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { newCommand, parseNumber, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { compareResults, DEFAULT_COMPARE_SEED, parseThresholdPct } from '../harness/analyze/compare.ts';
import { DEFAULT_MAX_ERROR_RATE } from '../harness/analyze/recommend.ts';
import { loadResults } from '../harness/results/io.ts';
import { compareMarkdown } from '../harness/report/compare-markdown.ts';
import { compareText } from '../harness/report/compare-text.ts';

await runCli(() => {
  const program = newCommand('compare')
    .description(
      'Compare the results of two branches cell by cell (bootstrap interval of the ratio of medians).\n' +
        'A cell also regresses when its share of failed requests rises beyond --max-error-rate, whatever its duration,\n' +
        'and a head with no completed cell fails.\n' +
        'Exit codes: 0 no regression, 1 regression beyond the threshold, 2 bad input.',
    )
    .argument('<base>', 'results file of the base branch')
    .argument('<head>', 'results file of the head branch')
    .option('--threshold <percent>', 'smallest slowdown of a cell that counts as a regression', '5%')
    .option(
      '--max-error-rate <rate>',
      `share of failed requests (0 to 1) a cell may rise beyond before it is a regression (default: ${DEFAULT_MAX_ERROR_RATE})`,
    )
    .option('--markdown <file>', 'also write the comparison as Markdown (e.g. for $GITHUB_STEP_SUMMARY)')
    .option('--allow-scenario-change', 'compare results of different scenarios anyway', false)
    .option('--seed <n>', 'seed of the bootstrap resampling', String(DEFAULT_COMPARE_SEED))
    .parse();
  const [baseFile, headFile] = program.args as [string, string];
  const options = program.opts<{ threshold: string; maxErrorRate?: string; markdown?: string; allowScenarioChange: boolean; seed: string }>();

  const thresholdPct = parseThresholdPct(options.threshold);
  const maxErrorRate = options.maxErrorRate === undefined ? DEFAULT_MAX_ERROR_RATE : parseNumber('--max-error-rate', options.maxErrorRate, 0, 1);
  if (!/^\d+$/.test(options.seed) || Number(options.seed) > 0xffffffff) {
    throw new InputError({ field: '--seed', problem: `"${options.seed}" is not a whole number from 0 to 4294967295`, fix: 'pass --seed 1, for example' });
  }
  const comparison = compareResults(loadResults(baseFile), loadResults(headFile), {
    thresholdPct,
    allowScenarioChange: options.allowScenarioChange,
    seed: Number(options.seed),
    maxErrorRate,
    files: { base: baseFile, head: headFile },
  });
  process.stdout.write(compareText(comparison));
  if (options.markdown) {
    mkdirSync(dirname(options.markdown), { recursive: true });
    writeFileSync(options.markdown, compareMarkdown(comparison));
  }
  return comparison.hasRegression ? 1 : 0;
});
