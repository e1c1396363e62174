import { newCommand, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { logsMemorySize, recordsAt, summarizeProduction, todaySetting, withProduction } from '../harness/production/compare.ts';
import { readPowerTuningView, readProductionLogs } from '../harness/production/read.ts';
import { loadResults } from '../harness/results/io.ts';
import type { Results } from '../harness/results/schema.ts';
import { findCell, type Setting } from '../harness/report/cell-views.ts';
import { parseSetting, settingLabel } from '../harness/report/summary.ts';
import { checkReportTargets, reportPaths } from '../harness/report/targets.ts';

await runCli(async () => {
  const program = newCommand('report')
    .description('Write the HTML report, SVG charts and Markdown summary of a results file')
    .argument('<results>', 'results JSON written by `npm run sweep`')
    .option('--out <file>', 'HTML file to write (default reports/<scenario>.html); SVGs and .md go beside it')
    .option('--current <CxM>', 'the setting in use today, concurrency x memory MB (e.g. 60x1024), to show what switching saves')
    .option(
      '--power-tuning <output>',
      "AWS Lambda Power Tuning's output (JSON): show its measured durations beside the predictions at the recommended concurrency",
    )
    .option(
      '--production <logs>',
      "CloudWatch logs of today's function (a file, or - for stdin): show production's durations beside the prediction at today's setting",
    )
    .parse();
  const [file] = program.args as [string];
  const { out, current, production, powerTuning } = program.opts<{ out?: string; current?: string; production?: string; powerTuning?: string }>();
  const currentSetting = current === undefined ? undefined : parseSetting(current);
  let results = loadResults(file);
  if (production !== undefined) results = withLogs(results, file, production, currentSetting);
  const powerTuningView = powerTuning === undefined ? undefined : readPowerTuningView(powerTuning, results, file);
  // Without --current, the setting production ran at is today's.
  const baseline = currentSetting ?? (results.production ? { concurrency: results.production.concurrency, memoryMb: results.production.memoryMb } : undefined);
  checkReportTargets(reportPaths(results, out).htmlFile);
  // Vega loads in about a second: only once the input is known to be good.
  const { writeReport } = await import('../harness/report/write.ts');
  const written = await writeReport(results, { outFile: out, current: baseline, ...(powerTuningView ? { powerTuning: powerTuningView } : {}) });
  process.stdout.write(
    `${written.htmlFile}\n${written.markdownFile}\n${written.svgFiles.length} charts in ${written.svgFiles.length ? written.svgFiles[0]!.replace(/[^/\\]+$/, '') : '(none)'}\n`,
  );
  return 0;
});

/** The results with production's block computed from these logs, at --current or the sweep's own today's setting. */
function withLogs(results: Results, resultsFile: string, logsFile: string, current: Setting | undefined): Results {
  const logsName = logsFile === '-' ? 'stdin' : logsFile;
  const all = readProductionLogs(logsFile);
  const { memoryMb } = logsMemorySize(all);
  const today = current
    ? { setting: current, field: '--current' }
    : { setting: results.production ? { concurrency: results.production.concurrency } : undefined, field: `${resultsFile}: production` };
  const setting = todaySetting(logsName, memoryMb, today);
  if (!findCell(results, { ...setting, architecture: results.scenario.lambda.architecture })) {
    throw new InputError({
      file: resultsFile,
      field: 'cells',
      problem: `today's setting, ${settingLabel(setting)}, was not measured in this sweep, so there is no prediction to hold against production`,
      fix: `sweep it (add ${setting.concurrency} to --concurrency and ${setting.memoryMb} to --memory), or pass --current with a measured setting`,
    });
  }
  const reports = recordsAt(all, setting.memoryMb);
  return withProduction(results, summarizeProduction(reports, { source: logsName, setting, cells: results.cells, scenario: results.scenario }));
}
