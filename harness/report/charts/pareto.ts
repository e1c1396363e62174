import { paretoFront } from '../../analyze/pareto.ts';
import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { workers } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, logIfPositive, memoryColor, PALETTE, round, type ReportChart } from './common.ts';

export interface ParetoRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  durationS: number;
  costUsdPerMonth: number;
  onFront: boolean;
  recommended: boolean;
  /** Text beside the recommended point, empty elsewhere. */
  label: string;
  tooltip: string;
}

export function paretoRows(cells: ReportCells): ParetoRow[] {
  const completed = completedViews(cells);
  const points = completed.map((view) => ({ view, durationMs: view.cell.durationMs.median, costUsdPerMonth: view.cell.costUsd.perMonth }));
  const front = new Set(paretoFront(points).map((p) => p.view));
  return completed.map((view) => {
    const { cell, series, recommended, sentence } = view;
    const onFront = front.has(view);
    const notes = [onFront ? 'on the Pareto front' : '', recommended ? 'recommended' : ''].filter(Boolean);
    return {
      series,
      concurrency: cell.concurrency,
      memoryMb: cell.memoryMb,
      durationS: round(cell.durationMs.median / 1000),
      costUsdPerMonth: round(cell.costUsd.perMonth),
      onFront,
      recommended,
      label: recommended ? `recommended: ${workers(cell.concurrency)}, ${cell.memoryMb} MB` : '',
      tooltip: notes.length ? `${sentence} (${notes.join(', ')})` : sentence,
    };
  });
}

export function paretoChart(cells: ReportCells): ReportChart {
  const rows = paretoRows(cells);
  const xScale = logIfPositive(rows.map((r) => r.durationS));
  const yScale = logIfPositive(rows.map((r) => r.costUsdPerMonth));
  const x = {
    field: 'durationS',
    type: 'quantitative' as const,
    title: `Duration per invocation (s${xScale.words})`,
    scale: { type: xScale.type, nice: false, padding: 16 },
  };
  const y = {
    field: 'costUsdPerMonth',
    type: 'quantitative' as const,
    title: `Cost per month (USD${yScale.words})`,
    scale: { type: yScale.type, nice: false, padding: 16 },
    axis: { format: '$,.2f' },
  };
  const tooltip = { field: 'tooltip', type: 'nominal' } as const;
  return {
    id: 'pareto',
    title: 'Duration vs cost: the Pareto front',
    caption: 'Every completed cell is a point; on the dark line nothing else is both faster and cheaper.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Duration vs cost', subtitle: 'Line: Pareto front (no cell is both faster and cheaper); diamond: recommended' },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      data: { values: rows },
      encoding: { x, y },
      layer: [
        {
          transform: [{ filter: 'datum.onFront' }],
          mark: { type: 'line', interpolate: 'step-after', color: PALETTE.ink, strokeWidth: 1.5, opacity: 0.7 },
          encoding: { order: { field: 'durationS', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
          encoding: { color: memoryColor(cells.seriesOrder), tooltip },
        },
        {
          transform: [{ filter: 'datum.onFront' }],
          mark: { type: 'point', filled: false, size: 170, color: PALETTE.ink, strokeWidth: 1.5 },
          encoding: { tooltip },
        },
        {
          transform: [{ filter: 'datum.recommended' }],
          mark: { type: 'point', shape: 'diamond', filled: true, size: 260, color: PALETTE.pick, stroke: '#ffffff', strokeWidth: 1 },
          encoding: { tooltip },
        },
        {
          transform: [{ filter: 'datum.recommended' }],
          mark: { type: 'text', align: 'left', dx: 12, dy: -12, fontSize: 12, fontWeight: 600, color: PALETTE.pick },
          encoding: { text: { field: 'label', type: 'nominal' } },
        },
      ],
    },
  };
}
