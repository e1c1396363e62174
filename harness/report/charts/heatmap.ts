import { isCompleted, type Cell } from '../../results/schema.ts';
import type { ReportCells } from '../cell-views.ts';
import { formatDuration, formatUsd } from '../format.ts';
import { CHART_CONFIG, PALETTE, round, type ReportChart } from './common.ts';

export type HeatmapMetric = 'cost' | 'duration';

export interface HeatmapRow {
  series: string;
  concurrency: number;
  state: Cell['state'];
  /** Cost per month in USD or median duration in seconds; null for a failed cell. */
  value: number | null;
  /** What the cell shows: "$1.16", "8.1 s", "OOM", "error", "timeout". */
  label: string;
  /** The value is in the darker half of the colour scale, so its label is drawn in white. */
  dark: boolean;
  recommended: boolean;
  tooltip: string;
}

const FAILED_LABELS: Record<Exclude<Cell['state'], 'completed'>, string> = { oom: 'OOM', errored: 'error', timeout: 'timeout' };

function metricValue(cell: Cell, metric: HeatmapMetric): number | null {
  if (!isCompleted(cell)) return null;
  return metric === 'cost' ? cell.costUsd.perMonth : cell.durationMs.median / 1000;
}

export function heatmapRows(cells: ReportCells, metric: HeatmapMetric): HeatmapRow[] {
  const values = cells.views.flatMap((v) => metricValue(v.cell, metric) ?? []);
  const low = Math.min(...values);
  const high = Math.max(...values);
  return cells.views.map(({ cell, series, recommended, sentence }) => {
    const value = metricValue(cell, metric);
    const label = isCompleted(cell)
      ? metric === 'cost'
        ? formatUsd(cell.costUsd.perMonth)
        : formatDuration(cell.durationMs.median)
      : FAILED_LABELS[cell.state];
    return {
      series,
      concurrency: cell.concurrency,
      state: cell.state,
      value: value === null ? null : round(value),
      label,
      dark: value !== null && high > low && (value - low) / (high - low) > 0.55,
      recommended,
      tooltip: recommended ? `${sentence} (recommended)` : sentence,
    };
  });
}

export function heatmapChart(cells: ReportCells, metric: HeatmapMetric): ReportChart {
  const isCost = metric === 'cost';
  const rows = heatmapRows(cells, metric);
  const x = { field: 'concurrency', type: 'ordinal', title: 'Concurrency (workers)', axis: { labelAngle: 0 } } as const;
  const y = { field: 'series', type: 'ordinal', title: 'Memory', sort: [...cells.seriesOrder].reverse() } as const;
  const tooltip = { field: 'tooltip', type: 'nominal' } as const;
  return {
    id: `heatmap-${metric}`,
    title: isCost ? 'Cost per month by concurrency and memory' : 'Duration by concurrency and memory',
    caption: isCost
      ? 'Darker is more expensive; the red frame is the recommendation, grey cells did not complete.'
      : 'Darker is slower; the red frame is the recommendation, grey cells did not complete.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: isCost ? 'Cost per month: concurrency × memory' : 'Duration per invocation: concurrency × memory',
        subtitle: isCost ? 'USD a month; red frame: recommended' : 'Median seconds; red frame: recommended',
      },
      width: { step: 50 },
      height: { step: 30 },
      config: CHART_CONFIG,
      data: { values: rows },
      encoding: { x, y },
      layer: [
        {
          transform: [{ filter: "datum.state === 'completed'" }],
          mark: { type: 'rect' },
          encoding: {
            color: {
              field: 'value',
              type: 'quantitative',
              title: isCost ? '$/month' : 'Seconds',
              scale: { scheme: isCost ? 'blues' : 'oranges' },
              legend: { format: isCost ? '$,.2f' : ',.1f', gradientLength: 160 },
            },
            tooltip,
          },
        },
        {
          transform: [{ filter: "datum.state !== 'completed'" }],
          mark: { type: 'rect', color: PALETTE.failed },
          encoding: { tooltip },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            text: { field: 'label', type: 'nominal' },
            color: { condition: { test: 'datum.dark', value: '#ffffff' }, value: PALETTE.ink },
            tooltip,
          },
        },
        {
          transform: [{ filter: 'datum.recommended' }],
          mark: { type: 'rect', fill: null, stroke: PALETTE.pick, strokeWidth: 3 },
        },
      ],
    },
  };
}
