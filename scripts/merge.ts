import { newCommand, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { loadResults, writeJsonAtomic } from '../harness/results/io.ts';
import { mergeResults } from '../harness/results/merge.ts';
import { DEFAULT_MAX_ERROR_RATE } from '../harness/analyze/recommend.ts';
import { DEFAULT_EQUIVALENCE } from '../harness/analyze/race.ts';
import { concludeSweep } from '../harness/sweep/conclude.ts';

await runCli(() => {
  const program = newCommand('merge')
    .description(
      'Join the results of the shards of one sweep (`npm run sweep -- --shard I/N`) into one results file.\n' +
        'Refuses shards of different scenarios, overlapping shards and missing cells (exit 2).',
    )
    .argument('<shards...>', 'results file of each shard')
    .requiredOption('--out <file>', 'where to write the merged results')
    .parse();
  const files = program.args;
  const { out } = program.opts<{ out: string }>();
  if (files.includes(out)) {
    throw new InputError({ field: '--out', problem: `${out} is also one of the shards to merge`, fix: 'write the merged results to a new file' });
  }
  const merged = mergeResults(files.map((file) => ({ file, results: loadResults(file) })));
  // A shard's recommendation and classification saw only its own cells: conclude again from the whole grid.
  const concluded = concludeSweep(merged, {
    recommend: { maxErrorRate: DEFAULT_MAX_ERROR_RATE, lambdaTimeoutS: merged.scenario.lambda.timeoutS },
    equivalence: merged.method.race?.equivalence ?? DEFAULT_EQUIVALENCE,
  });
  writeJsonAtomic(out, concluded);
  process.stdout.write(`Merged ${files.length} file${files.length === 1 ? '' : 's'}, ${merged.cells.length} cells, into ${out}\n`);
});
