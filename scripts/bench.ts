import { newCommand, runCli } from '../harness/cli.ts';
import { runBench } from '../harness/bench/run.ts';
import { formatBench } from '../harness/bench/summary.ts';
import { writeJsonAtomic } from '../harness/results/io.ts';
import { checkWritable } from '../harness/sweep/sweep.ts';
import { toolVersion } from '../harness/version.ts';

const program = newCommand('bench')
  .description(
    "Measure the harness: each backend's overhead against the ideal makespan and the naive harness, the simulator against real replays of the bundled scenarios, time scaling against real time (about 10 minutes)",
  )
  .option('--out <file>', 'where to write the figures', 'results/bench.json');

await runCli(async () => {
  program.parse();
  const { out } = program.opts<{ out: string }>();
  checkWritable(out);
  const bench = await runBench({ toolVersion: toolVersion(), log: (line) => process.stderr.write(`${line}\n`) });
  writeJsonAtomic(out, bench);
  console.log(formatBench(bench));
  console.log(`\nresults: ${out}`);
});
