import type { CompletedCell, ErrorsByKind } from '../../results/schema.ts';
import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { formatCount, formatRate, workers } from '../format.ts';
import { CHART_CONFIG, concurrencyX, round, type ReportChart } from './common.ts';

/** What is plotted: failed attempts by kind, and the requests that failed for good. */
const KINDS = [
  { key: 'http429', label: '429 rate limited', color: '#e8871e', always: true },
  { key: 'timeout', label: 'timeouts', color: '#7b3294', always: true },
  { key: 'http5xx', label: '5xx', color: '#d62728', always: true },
  { key: 'reset', label: 'connection resets', color: '#8c564b', always: false },
  { key: 'other', label: 'other errors', color: '#7f7f7f', always: false },
] as const satisfies ReadonlyArray<{ key: keyof ErrorsByKind; label: string; color: string; always: boolean }>;
const FAILED = { label: 'failed after retries', color: '#1f2933' } as const;

export interface ErrorRow {
  series: string;
  concurrency: number;
  kind: string;
  /** Attempts of this kind per request; for "failed after retries", the cell's errorRate. */
  rate: number;
  tooltip: string;
}

function requestsOf(cell: CompletedCell): number {
  return cell.reps.reduce((sum, rep) => sum + rep.requests, 0);
}

/** Kinds that occurred somewhere (429, timeouts and 5xx are always shown, zero being news too). */
function kindsShown(cells: ReportCells) {
  const completed = completedViews(cells);
  return KINDS.filter((kind) => kind.always || completed.some((v) => v.cell.errorsByKind[kind.key] > 0));
}

export function errorRows(cells: ReportCells): ErrorRow[] {
  const kinds = kindsShown(cells);
  return completedViews(cells).flatMap(({ cell, series }) => {
    const requests = requestsOf(cell);
    const where = `${series}, ${workers(cell.concurrency)}`;
    const byKind = kinds.map((kind): ErrorRow => {
      const count = cell.errorsByKind[kind.key];
      const rate = requests === 0 ? 0 : count / requests;
      return {
        series,
        concurrency: cell.concurrency,
        kind: kind.label,
        rate: round(rate),
        tooltip: `${where}: ${kind.label} on ${formatRate(rate)} of requests (${formatCount(count)} attempts in ${formatCount(requests)} requests)`,
      };
    });
    const failed: ErrorRow = {
      series,
      concurrency: cell.concurrency,
      kind: FAILED.label,
      rate: round(cell.errorRate),
      tooltip: `${where}: ${formatRate(cell.errorRate)} of requests failed after retries`,
    };
    return [...byKind, failed];
  });
}

export function errorChart(cells: ReportCells): ReportChart {
  const kinds = kindsShown(cells);
  const columns = Math.min(3, Math.max(1, cells.seriesOrder.length));
  return {
    id: 'errors',
    title: 'Error rate vs concurrency',
    caption: 'Rising 429s or timeouts mean the servers push back: more workers only add retries.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Error rate vs concurrency', subtitle: 'Failed attempts per request, by kind, for each memory size' },
      config: CHART_CONFIG,
      data: { values: errorRows(cells) },
      columns,
      facet: { field: 'series', type: 'ordinal', sort: [...cells.seriesOrder], title: null, header: { labelFontWeight: 600 } },
      spec: {
        width: 150,
        height: 110,
        mark: { type: 'line', point: true },
        encoding: {
          x: { ...concurrencyX(cells.concurrencies), title: 'Workers (log scale)' },
          y: { field: 'rate', type: 'quantitative', title: 'Per request', axis: { format: '.1~%' } },
          color: {
            field: 'kind',
            type: 'nominal',
            title: null,
            legend: { orient: 'top', direction: 'horizontal', labelLimit: 240 },
            scale: { domain: [...kinds.map((k) => k.label), FAILED.label], range: [...kinds.map((k) => k.color), FAILED.color] },
          },
          strokeDash: {
            field: 'kind',
            type: 'nominal',
            // Same field, title and placement as the colour, so both merge into one legend.
            title: null,
            legend: { orient: 'top', direction: 'horizontal', labelLimit: 240 },
            scale: { domain: [...kinds.map((k) => k.label), FAILED.label], range: [...kinds.map(() => [1, 0]), [4, 3]] },
          },
          tooltip: { field: 'tooltip', type: 'nominal' },
        },
      },
    },
  };
}
