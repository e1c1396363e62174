import { describeCell, type CellComparison, type Comparison } from '../analyze/compare.ts';
import type { CellKey } from '../results/cell-key.ts';
import { errorRateChange, formatChangePct, formatErrorRates, formatInterval } from './compare-markdown.ts';
import { formatMs, formatUsd } from './format.ts';

/** The comparison as a plain-text table for the terminal and CI logs. Pure. */
export function compareText(comparison: Comparison): string {
  const { base, head, thresholdPct } = comparison;
  const header = ['concurrency', 'memory MB', 'arch', 'base ms', 'head ms', 'change', 'head/base interval', 'failed', 'cost/month', 'verdict'];
  const rows = [
    ...comparison.cells.map((cell) => cellColumns(cell)),
    ...comparison.onlyInBase.map((key) => unmatchedColumns(key, 'base')),
    ...comparison.onlyInHead.map((key) => unmatchedColumns(key, 'head')),
  ];
  const lines = [
    `base ${base.file} (${base.branch} ${base.commit}) vs head ${head.file} (${head.branch} ${head.commit}), threshold ${thresholdPct}%`,
    '',
    ...alignColumns([header, ...rows], [true, true, false, true, true, true, false, false, false, false]),
    '',
  ];
  if (comparison.headMeasuredNothing) lines.push(`FAILED: ${comparison.headMeasuredNothing}.`);
  if (comparison.regressions.length) {
    lines.push(`REGRESSION in ${comparison.regressions.length} cell${comparison.regressions.length === 1 ? '' : 's'} beyond ${thresholdPct}%:`);
    for (const cell of comparison.regressions) lines.push(`  ${describeCell(cell.key)}: ${textVerdict(cell)}${changeNote(cell)}`);
  } else if (!comparison.headMeasuredNothing) {
    lines.push(`No regression beyond ${thresholdPct}%.`);
  }
  const rec = comparison.recommendation;
  if (rec.base || rec.head) {
    const settings = (r: typeof rec.base): string =>
      r ? `concurrency ${r.concurrency}, ${r.memoryMb} MB, ${r.architecture}, ${formatUsd(r.costUsdPerMonth)}/month` : 'none';
    lines.push(
      rec.settingsChanged
        ? `Recommendation changed: ${settings(rec.base)} -> ${settings(rec.head)}`
        : `Recommendation unchanged: ${settings(rec.head)}${rec.costChangePct === null ? '' : ` (cost ${formatChangePct(rec.costChangePct)})`}`,
    );
  }
  for (const warning of comparison.warnings) lines.push(`Warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

function cellColumns(cell: CellComparison): string[] {
  const { concurrency, memoryMb, architecture } = cell.key;
  if (cell.kind === 'state') {
    return [String(concurrency), String(memoryMb), architecture, cell.baseState, cell.headState, '', '', '', '', textVerdict(cell)];
  }
  return [
    String(concurrency),
    String(memoryMb),
    architecture,
    formatMs(cell.baseMedianMs),
    formatMs(cell.headMedianMs),
    formatChangePct(cell.changePct),
    formatInterval(cell.ratioInterval),
    formatErrorRates(cell),
    `${formatUsd(cell.costPerMonthUsd.base)} -> ${formatUsd(cell.costPerMonthUsd.head)}`,
    textVerdict(cell),
  ];
}

function unmatchedColumns(key: CellKey, side: 'base' | 'head'): string[] {
  return [String(key.concurrency), String(key.memoryMb), key.architecture, '', '', '', '', '', '', `only in ${side}, not compared`];
}

function textVerdict(cell: CellComparison): string {
  if (cell.kind === 'state') {
    if (cell.verdict === 'newly-failing') return `${cell.headState} on head${cell.headError ? ` (${cell.headError})` : ''}`;
    if (cell.verdict === 'fixed') return `fixed (was ${cell.baseState})`;
    return `fails on both (${cell.baseState} / ${cell.headState})`;
  }
  if (cell.verdict === 'more-errors') return 'more failed requests';
  const words = cell.verdict.replace(/-/g, ' ');
  return cell.underpowered && cell.verdict !== 'too-few-reps' ? `${words} (too noisy)` : words;
}

function changeNote(cell: CellComparison): string {
  if (cell.kind !== 'measured') return '';
  if (cell.verdict === 'more-errors') return ` ${errorRateChange(cell)}; duration ${formatChangePct(cell.changePct)}`;
  return ` ${formatChangePct(cell.changePct)}, interval ${formatInterval(cell.ratioInterval)}`;
}

function alignColumns(rows: string[][], rightAligned: boolean[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row
      .map((value, i) => (rightAligned[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
