import { describeCell, type CellComparison, type MeasuredCellComparison, type Comparison, type RecommendationComparison } from '../analyze/compare.ts';
import type { CellKey } from '../results/cell-key.ts';
import type { Recommendation } from '../results/schema.ts';
import { escapeMarkdown } from './escape.ts';
import { formatMs, formatRate, formatUsd } from './format.ts';

/**
 * The comparison of two branches as GitHub-flavoured Markdown, for a pull request's job summary.
 * Pure: comparison in, text out. Every string that comes from a results file (branch, commit,
 * file names, error messages, warnings) goes through the report's one escapeMarkdown, so a branch
 * named `x|<img>` cannot break the table or inject HTML, nor `@team` notify anyone.
 */
export function compareMarkdown(comparison: Comparison): string {
  const lines: string[] = [];
  const { regressions, thresholdPct } = comparison;
  lines.push('## fanout-tuner: head vs base', '');
  if (comparison.headMeasuredNothing) {
    lines.push(`**❌ ${escapeMarkdown(capitalize(comparison.headMeasuredNothing))}.**`, '');
  }
  if (regressions.length) {
    lines.push(
      `**❌ ${regressions.length} regression${regressions.length === 1 ? '' : 's'}** beyond the ${thresholdPct}% threshold:`,
      '',
      ...regressions.map((cell) => `- **${escapeMarkdown(describeCell(cell.key))}**: ${regressionText(cell)}`),
    );
  } else if (!comparison.headMeasuredNothing) {
    lines.push(`**✅ No regression** beyond the ${thresholdPct}% threshold.`);
  }
  if (comparison.improvements.length) {
    lines.push('', `${comparison.improvements.length} improvement${comparison.improvements.length === 1 ? '' : 's'} beyond the threshold.`);
  }
  lines.push(
    '',
    `Base: ${side(comparison.base)}. Head: ${side(comparison.head)}. ` +
      `Scenario: ${escapeMarkdown(comparison.head.scenarioName)}. ` +
      `A cell regresses when the ${percent(comparison.confidence)} bootstrap interval of head/base (medians, seed ${comparison.seed}) ` +
      `lies above 1, the Mann-Whitney test agrees, and the slowdown exceeds ${thresholdPct}%, ` +
      `or when its share of failed requests rises beyond ${formatRate(comparison.maxErrorRate)}, whatever its duration.`,
  );

  lines.push('', '### Recommendation', '', ...recommendationLines(comparison.recommendation));

  lines.push(
    '',
    '### Cells',
    '',
    `| concurrency | memory (MB) | architecture | base median (ms) | head median (ms) | change | ${percent(comparison.confidence)} interval of head/base | failed requests | cost per month (USD) | verdict |`,
    '|---:|---:|---|---:|---:|---:|---|---|---|---|',
    ...comparison.cells.map(cellRow),
    ...comparison.onlyInBase.map((key) => unmatchedRow(key, 'base')),
    ...comparison.onlyInHead.map((key) => unmatchedRow(key, 'head')),
  );
  if (comparison.cells.length === 0) lines.push('', 'No cell is present in both files.');

  if (comparison.warnings.length) {
    lines.push('', '### Warnings', '', ...comparison.warnings.map((w) => `- ${escapeMarkdown(w)}`));
  }
  return `${lines.join('\n')}\n`;
}

function side(summary: Comparison['base']): string {
  return `${escapeMarkdown(summary.branch)} at ${escapeMarkdown(summary.commit)} (${escapeMarkdown(summary.file)})`;
}

function regressionText(cell: CellComparison): string {
  if (cell.kind === 'state') {
    return `completed on base, ${cell.headState} on head${cell.headError ? `: ${escapeMarkdown(cell.headError)}` : ''}`;
  }
  if (cell.verdict === 'more-errors') return `failed requests ${errorRateChange(cell)}; duration ${formatChangePct(cell.changePct)}`;
  return `${formatChangePct(cell.changePct)} (${formatMs(cell.baseMedianMs)} ms -> ${formatMs(cell.headMedianMs)} ms, interval of head/base ${formatInterval(cell.ratioInterval)})`;
}

function cellRow(cell: CellComparison): string {
  const { concurrency, memoryMb, architecture } = cell.key;
  if (cell.kind === 'state') {
    return `| ${concurrency} | ${memoryMb} | ${architecture} | ${cell.baseState} | ${cell.headState} | | | | | ${verdictLabel(cell)} |`;
  }
  const cost = `${formatUsd(cell.costPerMonthUsd.base)} -> ${formatUsd(cell.costPerMonthUsd.head)}${
    cell.costPerMonthUsd.changePct === null ? '' : ` (${formatChangePct(cell.costPerMonthUsd.changePct)})`
  }`;
  return (
    `| ${concurrency} | ${memoryMb} | ${architecture} | ${formatMs(cell.baseMedianMs)} | ${formatMs(cell.headMedianMs)} | ` +
    `${formatChangePct(cell.changePct)} | ${formatInterval(cell.ratioInterval)} | ${formatErrorRates(cell)} | ${cost} | ${verdictLabel(cell)} |`
  );
}

/** A cell of one file only: named in the table, so a cell missing from a side is seen, not dropped. */
function unmatchedRow(key: CellKey, side: 'base' | 'head'): string {
  return `| ${key.concurrency} | ${key.memoryMb} | ${key.architecture} | | | | | | | only in ${side}, not compared |`;
}

/** "0% -> 50%": the share of failed requests on each side. */
export function formatErrorRates(cell: MeasuredCellComparison): string {
  return `${formatRate(cell.errorRate.base)} -> ${formatRate(cell.errorRate.head)}`;
}

/** Why a cell failed on its error rate: both rates and the limit they crossed. */
export function errorRateChange(cell: MeasuredCellComparison): string {
  return `${formatErrorRates(cell)}, beyond the limit of ${formatRate(cell.errorRate.limit)}`;
}

/** The verdict in words; a warning sign marks a cell whose interval cannot resolve the threshold. */
export function verdictLabel(cell: CellComparison): string {
  switch (cell.verdict) {
    case 'regression':
      return '❌ regression';
    case 'more-errors':
      return '❌ more failed requests';
    case 'improvement':
      return `✅ improvement${cell.kind === 'measured' && cell.underpowered ? ' ⚠' : ''}`;
    case 'within-threshold':
      return `within threshold${cell.kind === 'measured' && cell.underpowered ? ' ⚠' : ''}`;
    case 'no-significant-change':
      return `no significant change${cell.kind === 'measured' && cell.underpowered ? ' ⚠ too noisy' : ''}`;
    case 'too-few-reps':
      return '⚠ too few repetitions';
    case 'newly-failing':
      return cell.kind === 'state' ? `❌ ${cell.headState} on head` : '❌ fails on head';
    case 'fixed':
      return cell.kind === 'state' ? `✅ fixed (was ${cell.baseState})` : '✅ fixed';
    case 'both-failed':
      return cell.kind === 'state' ? `fails on both (${cell.baseState} / ${cell.headState})` : 'fails on both';
  }
}

function recommendationLines(comparison: RecommendationComparison): string[] {
  const { base, head } = comparison;
  if (!base && !head) return ['Neither file holds a recommendation.'];
  const summary = comparison.settingsChanged ? '**The recommended settings changed.**' : 'The recommended settings are the same.';
  const costNote = comparison.costChangePct === null ? '' : ` Projected monthly cost ${formatChangePct(comparison.costChangePct)}.`;
  const row = (label: string, pick: (r: Recommendation) => string): string => `| ${label} | ${base ? pick(base) : 'none'} | ${head ? pick(head) : 'none'} |`;
  return [
    `${summary}${costNote}`,
    '',
    '| | base | head |',
    '|---|---|---|',
    row('strategy', (r) => r.strategy),
    row('concurrency', (r) => String(r.concurrency)),
    row('memory (MB)', (r) => String(r.memoryMb)),
    row('architecture', (r) => r.architecture),
    row('median duration (ms)', (r) => formatMs(r.durationMs)),
    row('cost per month (USD)', (r) => formatUsd(r.costUsdPerMonth)),
  ];
}

export function formatChangePct(pct: number): string {
  if (!Number.isFinite(pct)) return 'n/a';
  const rounded = pct.toFixed(1);
  return `${pct > 0 && rounded !== '0.0' ? '+' : ''}${rounded === '-0.0' ? '0.0' : rounded}%`;
}

export function formatInterval(interval: readonly [number, number] | null): string {
  return interval ? `${interval[0].toFixed(3)}-${interval[1].toFixed(3)}` : 'n/a';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
