import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { formatDuration } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, concurrencyX, memoryColor, round, type ReportChart } from './common.ts';

export interface DurationRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  durationS: number;
  ciLowS: number;
  ciHighS: number;
  tooltip: string;
}

export function durationRows(cells: ReportCells): DurationRow[] {
  return completedViews(cells).map(({ cell, series, sentence }) => ({
    series,
    concurrency: cell.concurrency,
    memoryMb: cell.memoryMb,
    durationS: round(cell.durationMs.median / 1000),
    ciLowS: round(cell.durationMs.ci95[0] / 1000),
    ciHighS: round(cell.durationMs.ci95[1] / 1000),
    tooltip: `${sentence} (95% CI of the mean ${formatDuration(cell.durationMs.ci95[0])} to ${formatDuration(cell.durationMs.ci95[1])})`,
  }));
}

export function durationChart(cells: ReportCells, reps: number): ReportChart {
  const color = memoryColor(cells.seriesOrder);
  return {
    id: 'duration',
    title: 'Duration vs concurrency',
    caption: 'Where the lines flatten, more workers stop paying off; a wide band means noisy repetitions.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: 'Duration per invocation vs concurrency',
        subtitle: `Median of ${reps} repetition${reps === 1 ? '' : 's'}; band: 95% confidence interval of the mean`,
      },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      data: { values: durationRows(cells) },
      // The legend would otherwise take the faint fill of the band for its swatches.
      encoding: { x: concurrencyX(cells.concurrencies), color: { ...color, legend: { symbolOpacity: 1 } } },
      layer: [
        {
          mark: { type: 'area', opacity: 0.18 },
          encoding: { y: { field: 'ciLowS', type: 'quantitative' }, y2: { field: 'ciHighS' } },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            y: { field: 'durationS', type: 'quantitative', title: 'Duration (s)', scale: { zero: true } },
            tooltip: { field: 'tooltip', type: 'nominal' },
          },
        },
      ],
    },
  };
}
