import { isCompleted, type Results } from '../results/schema.ts';
import { costChangeVsOneWorker, reportCells, stateWords, type Setting } from './cell-views.ts';
import type { ReportChart } from './charts/index.ts';
import { escapeMarkdown as md } from './escape.ts';
import { formatCount, formatDuration, formatMb, formatRate, formatSignedPercent, formatUsd } from './format.ts';
import { productionSentence } from '../production/compare.ts';
import type { PowerTuningView } from '../production/power-tuning.ts';
import { modelCellText, modelColumns, simulatorTrust } from './simulator.ts';
import { buildSummary, settingLabel } from './summary.ts';
import { FIDELITY_LIMIT, reportWarnings } from './warnings.ts';

export interface MarkdownOptions {
  current?: Setting;
  /** Each chart with the link to its SVG, relative to the Markdown file. */
  charts?: ReadonlyArray<Pick<ReportChart, 'id' | 'title'> & { href: string }>;
  /** Link to the HTML report, relative to the Markdown file. */
  htmlHref?: string;
  /** A Power Tuning run against the predictions (`--power-tuning`). */
  powerTuning?: PowerTuningView;
}

/**
 * A summary for $GITHUB_STEP_SUMMARY and PR comments: the recommendation, what limits the job,
 * the warnings, how far to trust the simulator, the table (folded, it is long) and links to the
 * charts. Every string from the results file is escaped; numbers and labels made here are not.
 */
export function buildMarkdown(results: Results, options: MarkdownOptions = {}): string {
  const cells = reportCells(results);
  const summary = buildSummary(results, options.current);
  const warnings = reportWarnings(results);
  const lines: string[] = [`## fanout-tuner: ${md(results.scenario.name)}`, ''];
  if (results.scenario.description) lines.push(md(results.scenario.description), '');

  const pick = summary.recommendation;
  if (pick) {
    lines.push(
      `**Recommended: ${settingLabel(pick)}** (${pick.architecture}, strategy ${pick.strategy}): ${formatDuration(pick.durationMs)} per invocation, ${formatUsd(pick.costUsdPerMonth)}/month.`,
      '',
    );
    if (summary.vsOneWorker) lines.push(`- ${capitalize(summary.vsOneWorker.sentence)}.`);
    if (typeof summary.vsCurrent === 'string') lines.push(`- ${md(summary.vsCurrent)}`);
    else if (summary.vsCurrent) lines.push(`- ${capitalize(summary.vsCurrent.sentence)}.`);
    lines.push(`- Why: ${md(pick.why)}`, '');
  } else {
    lines.push(`**${summary.headline}.**`, '');
  }
  if (results.classification) lines.push(`**Job:** ${md(results.classification.advice)}`, '');
  if (results.production) lines.push(`**Production** (${md(results.production.source)}): ${md(productionSentence(results.production))}.`, '');

  if (warnings.length) {
    lines.push(`### Warnings (${warnings.length})`, '');
    for (const w of warnings) lines.push(`- ${md(w.message)}`);
    lines.push('');
  }

  if (options.powerTuning) {
    const { source, concurrency, rows } = options.powerTuning;
    lines.push(
      `### AWS Lambda Power Tuning (${md(source)}) at ${concurrency} workers`,
      '',
      '| Memory | Measured | Predicted | Error |',
      '|---:|---:|---:|---:|',
    );
    for (const row of rows) {
      lines.push(
        `| ${row.memoryMb} MB | ${formatDuration(row.measuredMs)} | ${row.predictedMs === null ? 'not swept' : formatDuration(row.predictedMs)} | ${row.error === null ? '–' : formatSignedPercent(row.error)} |`,
      );
    }
    lines.push('');
  }

  const trust = simulatorTrust(results);
  if (trust) lines.push(`**Simulator:** ${trust.sentence}`, '');

  // The simulator's columns only where some cell carries them: older files keep their table.
  const columns = modelColumns(results);
  const header = [
    'Memory',
    'Workers',
    'State',
    'Duration',
    '95% CI',
    ...(columns.projected ? ['Projected'] : []),
    'Cost / month',
    'vs 1 worker',
    'Failed requests',
    'Peak memory',
    'Fidelity',
    ...(columns.modelError ? ['Model error'] : []),
  ];
  const alignment = header.map((_, i) => (i === 0 || i === 2 ? '---' : '---:'));
  lines.push(`<details><summary>All ${formatCount(results.cells.length)} cells</summary>`, '', `| ${header.join(' | ')} |`, `|${alignment.join('|')}|`);
  for (const { cell, series, baseline, recommended } of cells.views) {
    const state = `${stateWords(cell)}${recommended ? ' **(recommended)**' : ''}`;
    if (!isCompleted(cell)) {
      lines.push(`| ${series} | ${cell.concurrency} | ${state}: ${md(cell.error)} |${' |'.repeat(header.length - 3)}`);
      continue;
    }
    const model = modelCellText(cell);
    const row = [
      series,
      String(cell.concurrency),
      state,
      formatDuration(cell.durationMs.median),
      `${formatDuration(cell.durationMs.ci95[0])} – ${formatDuration(cell.durationMs.ci95[1])}`,
      ...(columns.projected ? [model.projected] : []),
      formatUsd(cell.costUsd.perMonth),
      costChangeVsOneWorker(cell, baseline),
      formatRate(cell.errorRate),
      formatMb(cell.peakRssMb),
      cell.fidelityRatio > FIDELITY_LIMIT ? `**${cell.fidelityRatio.toFixed(2)}**` : cell.fidelityRatio.toFixed(2),
      ...(columns.modelError ? [model.modelErrorOff ? `**${model.modelError}**` : model.modelError] : []),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('', '</details>', '');

  if (options.charts?.length || options.htmlHref) {
    lines.push('### Charts', '');
    if (options.htmlHref) lines.push(`- [Interactive HTML report](${options.htmlHref})`);
    for (const chart of options.charts ?? []) lines.push(`- [${md(chart.title)}](${chart.href})`);
    lines.push('');
  }

  const { env, method } = results;
  lines.push(
    `<sub>fanout-tuner ${md(results.tool.version)} · commit ${md(env.commit)} (${md(env.branch)}) · Node.js ${md(env.node)} on ${md(env.platform)}, ${env.cpus} CPUs · backend ${md(method.backend)}, CPU ${method.cpuThrottle}, ${method.reps} reps · ${formatCount(results.scenario.lambda.invocationsPerMonth)} invocations/month</sub>`,
    '',
  );
  return lines.join('\n');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
