import type { ReportCells } from '../cell-views.ts';
import { completedViews } from '../cell-views.ts';
import { formatDuration, workers } from '../format.ts';
import { FIDELITY_LIMIT } from '../warnings.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, concurrencyX, memoryColor, PALETTE, round, type ReportChart } from './common.ts';

export interface FidelityRow {
  series: string;
  concurrency: number;
  fidelityRatio: number;
  tooltip: string;
}

export function fidelityRows(cells: ReportCells): FidelityRow[] {
  return completedViews(cells).map(({ cell, series }) => ({
    series,
    concurrency: cell.concurrency,
    fidelityRatio: round(cell.fidelityRatio),
    tooltip: `${series}, ${workers(cell.concurrency)}: measured ${formatDuration(cell.durationMs.median)} = ${cell.fidelityRatio.toFixed(2)}× the ideal ${formatDuration(cell.idealMs)}${cell.fidelityRatio > FIDELITY_LIMIT ? ' (above the limit: the harness may be the bottleneck)' : ''}`,
  }));
}

export function fidelityChart(cells: ReportCells): ReportChart {
  return {
    id: 'fidelity',
    title: 'Fidelity: measured vs ideal duration',
    caption: `1.00 means the replay ran as fast as the mocked servers allow; above ${FIDELITY_LIMIT.toFixed(2)} the harness itself slows the job and the duration is pessimistic.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Fidelity ratio vs concurrency', subtitle: `Median measured / ideal makespan; red line: ${FIDELITY_LIMIT.toFixed(2)}` },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      layer: [
        {
          data: { values: fidelityRows(cells) },
          mark: { type: 'line', point: true },
          encoding: {
            x: concurrencyX(cells.concurrencies),
            y: { field: 'fidelityRatio', type: 'quantitative', title: 'Measured / ideal', scale: { zero: false }, axis: { format: '.2f' } },
            color: memoryColor(cells.seriesOrder),
            tooltip: { field: 'tooltip', type: 'nominal' },
          },
        },
        {
          data: { values: [{ fidelityRatio: FIDELITY_LIMIT, label: `limit ${FIDELITY_LIMIT.toFixed(2)}` }] },
          layer: [
            {
              mark: { type: 'rule', color: PALETTE.pick, strokeDash: [6, 4], strokeWidth: 1.5 },
              encoding: { y: { field: 'fidelityRatio', type: 'quantitative' } },
            },
            {
              mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -4, fontSize: 11, fontWeight: 600, color: PALETTE.pick },
              encoding: { y: { field: 'fidelityRatio', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label', type: 'nominal' } },
            },
          ],
        },
      ],
    },
  };
}
