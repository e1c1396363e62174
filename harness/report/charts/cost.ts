import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { formatCount } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, concurrencyX, logIfPositive, memoryColor, round, type ReportChart } from './common.ts';

export interface CostRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  costUsdPerMonth: number;
  tooltip: string;
}

export function costRows(cells: ReportCells): CostRow[] {
  return completedViews(cells).map(({ cell, series, sentence }) => ({
    series,
    concurrency: cell.concurrency,
    memoryMb: cell.memoryMb,
    costUsdPerMonth: round(cell.costUsd.perMonth),
    tooltip: sentence,
  }));
}

export function costChart(cells: ReportCells, invocationsPerMonth: number): ReportChart {
  const rows = costRows(cells);
  const yScale = logIfPositive(rows.map((r) => r.costUsdPerMonth));
  return {
    id: 'cost',
    title: 'Cost per month vs concurrency',
    caption: 'Lambda bills memory × duration: a larger size pays off only where it shortens the run enough.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: 'Cost per month vs concurrency',
        subtitle: `${formatCount(invocationsPerMonth)} invocations a month, duration and requests`,
      },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      data: { values: rows },
      mark: { type: 'line', point: true },
      encoding: {
        x: concurrencyX(cells.concurrencies),
        y: {
          field: 'costUsdPerMonth',
          type: 'quantitative',
          title: `Cost per month (USD${yScale.words})`,
          scale: { type: yScale.type, nice: false },
          axis: { format: '$,.2f' },
        },
        color: memoryColor(cells.seriesOrder),
        tooltip: { field: 'tooltip', type: 'nominal' },
      },
    },
  };
}
