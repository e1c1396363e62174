import { newCommand, runCli } from '../harness/cli.ts';
import { loadResults } from '../harness/results/io.ts';
import { parseSetting } from '../harness/report/summary.ts';

await runCli(async () => {
  const program = newCommand('report')
    .description('Write the HTML report, SVG charts and Markdown summary of a results file')
    .argument('<results>', 'results JSON written by `npm run sweep`')
    .option('--out <file>', 'HTML file to write (default reports/<scenario>.html); SVGs and .md go beside it')
    .option('--current <CxM>', 'the setting in use today, concurrency x memory MB (e.g. 60x1024), to show what switching saves')
    .parse();
  const [file] = program.args as [string];
  const { out, current } = program.opts<{ out?: string; current?: string }>();
  const currentSetting = current === undefined ? undefined : parseSetting(current);
  const results = loadResults(file);
  // Vega loads in about a second: only once the input is known to be good.
  const { writeReport } = await import('../harness/report/write.ts');
  const written = await writeReport(results, { outFile: out, current: currentSetting });
  process.stdout.write(`${written.htmlFile}\n${written.markdownFile}\n${written.svgFiles.length} charts in ${written.svgFiles.length ? written.svgFiles[0]!.replace(/[^/\\]+$/, '') : '(none)'}\n`);
  return 0;
});
