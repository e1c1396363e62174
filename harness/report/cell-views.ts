import { isCompleted, type Cell, type CompletedCell, type Results } from '../results/schema.ts';
import { formatDuration, formatPercent, formatUsd, workers } from './format.ts';

/** A (concurrency, memory) setting; architecture left out matches the recommendation's or any. */
export interface Setting {
  concurrency: number;
  memoryMb: number;
  architecture?: 'x86_64' | 'arm64';
}

/** How the report sees one cell: the values every chart, table and tooltip shares. */
export interface CellView {
  cell: Cell;
  /** The memory size as the charts' colour legend names it, e.g. "1024 MB" (plus the architecture when both were swept). */
  series: string;
  recommended: boolean;
  /** The same memory size and architecture at concurrency 1, when it completed. */
  baseline: CompletedCell | undefined;
  /** One sentence for tooltips: "1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker". */
  sentence: string;
}

export interface ReportCells {
  views: CellView[];
  /** Series labels from the smallest memory size to the largest. */
  seriesOrder: string[];
  /** The concurrency values measured, ascending. */
  concurrencies: number[];
  recommended: CompletedCell | undefined;
}

const FAILED_STATE_WORDS: Record<Exclude<Cell['state'], 'completed'>, string> = {
  oom: 'out of memory',
  errored: 'errored',
  timeout: 'timed out',
};

export function stateWords(cell: Cell): string {
  return cell.state === 'completed' ? 'completed' : FAILED_STATE_WORDS[cell.state];
}

/** What happened to a cell that did not complete, as a verb: "ran out of memory", "errored", "timed out". */
export function failureVerb(cell: Cell): string {
  return cell.state === 'oom' ? 'ran out of memory' : stateWords(cell);
}

export function sameSetting(cell: Cell, setting: Setting): boolean {
  return (
    cell.concurrency === setting.concurrency &&
    cell.memoryMb === setting.memoryMb &&
    (setting.architecture === undefined || cell.architecture === setting.architecture)
  );
}

export function findCell(results: Results, setting: Setting): Cell | undefined {
  return results.cells.find((cell) => sameSetting(cell, setting));
}

export function recommendedCell(results: Results): CompletedCell | undefined {
  const pick = results.recommendation;
  if (!pick) return undefined;
  const cell = findCell(results, pick);
  return cell && isCompleted(cell) ? cell : undefined;
}

export function oneWorkerBaseline(results: Results, cell: Setting): CompletedCell | undefined {
  const baseline = findCell(results, { concurrency: 1, memoryMb: cell.memoryMb, architecture: cell.architecture });
  return baseline && isCompleted(baseline) ? baseline : undefined;
}

/** A relative change in words: "38% cheaper", "12% more expensive", or undefined when it rounds to 0%. */
function relativeWords(from: number, to: number, better: string, worse: string): string | undefined {
  const by = from === 0 ? 0 : 1 - to / from;
  if (Math.round(by * 100) === 0) return undefined;
  return by > 0 ? `${formatPercent(by)} ${better}` : `${formatPercent(-by)} ${worse}`;
}

/** "38% cheaper than X", "12% more expensive than X", or "as cheap as X". */
export function costComparison(fromUsd: number, toUsd: number, than: string): string {
  const words = relativeWords(fromUsd, toUsd, 'cheaper', 'more expensive');
  return words ? `${words} than ${than}` : `as cheap as ${than}`;
}

/** "65% faster than X", "12% slower than X", or "as fast as X". */
export function speedComparison(fromMs: number, toMs: number, than: string): string {
  const words = relativeWords(fromMs, toMs, 'faster', 'slower');
  return words ? `${words} than ${than}` : `as fast as ${than}`;
}

/** "65% faster and 38% cheaper than X"; spelt out in full when either is unchanged. */
export function speedAndCostComparison(
  from: { durationMs: number; costUsdPerMonth: number },
  to: { durationMs: number; costUsdPerMonth: number },
  than: string,
): string {
  const speed = relativeWords(from.durationMs, to.durationMs, 'faster', 'slower');
  const cost = relativeWords(from.costUsdPerMonth, to.costUsdPerMonth, 'cheaper', 'more expensive');
  if (speed && cost) return `${speed} and ${cost} than ${than}`;
  return `${speedComparison(from.durationMs, to.durationMs, than)} and ${costComparison(from.costUsdPerMonth, to.costUsdPerMonth, than)}`;
}

/** The change in monthly cost against 1 worker, for tables: "−38%", "+12%", "0%", or "–" without a baseline. */
export function costChangeVsOneWorker(cell: CompletedCell, baseline: CompletedCell | undefined): string {
  if (!baseline || baseline === cell || baseline.costUsd.perMonth === 0) return '–';
  const change = cell.costUsd.perMonth / baseline.costUsd.perMonth - 1;
  const percent = formatPercent(Math.abs(change));
  if (percent === '0%') return percent;
  return change < 0 ? `−${percent}` : `+${percent}`;
}

export function cellSentence(cell: Cell, series: string, baseline: CompletedCell | undefined): string {
  const where = `${series}, ${workers(cell.concurrency)}`;
  if (!isCompleted(cell)) return `${where}: ${stateWords(cell)} (${cell.error})`;
  const parts = [formatDuration(cell.durationMs.median), `${formatUsd(cell.costUsd.perMonth)}/month`];
  if (baseline && baseline !== cell) parts.push(costComparison(baseline.costUsd.perMonth, cell.costUsd.perMonth, '1 worker'));
  return `${where}: ${parts.join(', ')}`;
}

function byMemoryThenArchitecture(a: Setting, b: Setting): number {
  return a.memoryMb - b.memoryMb || String(a.architecture).localeCompare(String(b.architecture));
}

export function reportCells(results: Results): ReportCells {
  const bothArchitectures = new Set(results.cells.map((c) => c.architecture)).size > 1;
  const seriesOf = (cell: Setting): string => (bothArchitectures ? `${cell.memoryMb} MB ${cell.architecture}` : `${cell.memoryMb} MB`);
  const recommended = recommendedCell(results);
  const ordered = [...results.cells].sort((a, b) => byMemoryThenArchitecture(a, b) || a.concurrency - b.concurrency);
  const views = ordered.map((cell): CellView => {
    const series = seriesOf(cell);
    const baseline = oneWorkerBaseline(results, cell);
    return { cell, series, recommended: cell === recommended, baseline, sentence: cellSentence(cell, series, baseline) };
  });
  return {
    views,
    seriesOrder: [...new Set(views.map((v) => v.series))],
    concurrencies: [...new Set(results.cells.map((c) => c.concurrency))].sort((a, b) => a - b),
    recommended,
  };
}

export function completedViews(cells: ReportCells): Array<CellView & { cell: CompletedCell }> {
  return cells.views.filter((v): v is CellView & { cell: CompletedCell } => isCompleted(v.cell));
}
