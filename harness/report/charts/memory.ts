import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { formatMb, workers } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, concurrencyX, memoryColor, PALETTE, round, type ReportChart } from './common.ts';

export interface PeakMemoryRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  peakRssMb: number;
  tooltip: string;
}

export interface MemoryLimitRow {
  series: string;
  memoryMb: number;
}

export interface OomRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  tooltip: string;
}

export function peakMemoryRows(cells: ReportCells): PeakMemoryRow[] {
  return completedViews(cells).map(({ cell, series }) => ({
    series,
    concurrency: cell.concurrency,
    memoryMb: cell.memoryMb,
    peakRssMb: round(cell.peakRssMb),
    tooltip: `${series}, ${workers(cell.concurrency)}: peak ${formatMb(cell.peakRssMb)} (${Math.round((cell.peakRssMb / cell.memoryMb) * 100)}% of the limit)`,
  }));
}

export function memoryLimitRows(cells: ReportCells): MemoryLimitRow[] {
  const seen = new Map<string, number>();
  for (const { series, cell } of cells.views) seen.set(series, cell.memoryMb);
  return [...seen].map(([series, memoryMb]) => ({ series, memoryMb }));
}

export function oomRows(cells: ReportCells): OomRow[] {
  return cells.views
    .filter((v) => v.cell.state === 'oom')
    .map(({ cell, series, sentence }) => ({ series, concurrency: cell.concurrency, memoryMb: cell.memoryMb, tooltip: sentence }));
}

export function memoryChart(cells: ReportCells): ReportChart {
  const x = concurrencyX(cells.concurrencies);
  const y = { field: 'memoryMb', type: 'quantitative', title: 'Memory (MB, log scale)', scale: { type: 'log', nice: false } } as const;
  const color = memoryColor(cells.seriesOrder);
  const oom = oomRows(cells);
  return {
    id: 'memory',
    title: 'Peak memory vs concurrency',
    caption: 'Each dashed line is a memory limit; a line of points nearing its own limit is close to running out of memory.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Peak memory vs concurrency', subtitle: 'Solid: peak RSS; dashed: the memory limit of the same colour; ✕: out of memory' },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      layer: [
        {
          data: { values: memoryLimitRows(cells) },
          mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.2, opacity: 0.8 },
          encoding: { y, color },
        },
        {
          data: { values: peakMemoryRows(cells) },
          mark: { type: 'line', point: true },
          encoding: { x, y: { ...y, field: 'peakRssMb' }, color, tooltip: { field: 'tooltip', type: 'nominal' } },
        },
        ...(oom.length
          ? [
              {
                data: { values: oom },
                mark: { type: 'point', shape: 'cross', filled: true, size: 160, color: PALETTE.pick, angle: 45 },
                encoding: { x, y, tooltip: { field: 'tooltip', type: 'nominal' } },
              } as const,
              {
                data: { values: oom },
                mark: { type: 'text', text: 'OOM', dy: -12, fontSize: 10, fontWeight: 600, color: PALETTE.pick },
                encoding: { x, y },
              } as const,
            ]
          : []),
      ],
    },
  };
}
