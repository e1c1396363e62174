import type { ReportCells } from '../cell-views.ts';
import { completedViews, speedComparison } from '../cell-views.ts';
import { formatDuration, formatSignedPercent, workers } from '../format.ts';
import { medianMockCpuMs } from '../simulator.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, concurrencyX, memoryColor, PALETTE, round, type ReportChart } from './common.ts';

export const MEASURED = 'measured';
export const PROJECTED = 'projected';

export interface ProjectionRow {
  series: string;
  concurrency: number;
  memoryMb: number;
  measure: typeof MEASURED | typeof PROJECTED;
  durationS: number;
  tooltip: string;
}

/** Two points per cell that carries a projection: the measured median and the simulator's production duration. */
export function projectionRows(cells: ReportCells): ProjectionRow[] {
  return completedViews(cells).flatMap(({ cell, series }) => {
    if (cell.projectedMs === undefined) return [];
    const where = `${series}, ${workers(cell.concurrency)}`;
    const mockCpuMs = medianMockCpuMs(cell);
    const measured = formatDuration(cell.durationMs.median);
    const key = { series, concurrency: cell.concurrency, memoryMb: cell.memoryMb };
    return [
      {
        ...key,
        measure: MEASURED,
        durationS: round(cell.durationMs.median / 1000),
        tooltip: `${where}: measured ${measured}${mockCpuMs === undefined ? '' : `, the mock's own CPU (${formatDuration(mockCpuMs)}) included`}`,
      },
      {
        ...key,
        measure: PROJECTED,
        durationS: round(cell.projectedMs / 1000),
        tooltip: `${where}: projected ${formatDuration(cell.projectedMs)} in production, ${speedComparison(cell.durationMs.median, cell.projectedMs, `the measured ${measured}`)}${
          cell.modelError === undefined ? '' : ` (model error ${formatSignedPercent(cell.modelError)})`
        }`,
      },
    ];
  });
}

export function projectionChart(cells: ReportCells): ReportChart {
  return {
    id: 'projection',
    title: 'Measured vs projected production duration',
    caption:
      "Solid: the median the replay measured, the mock's own CPU included. Dashed: the simulator's duration on Lambda, without the mock's CPU and with the memory size's share of a core.",
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Measured vs projected production duration', subtitle: 'Median of the replay (solid) and the simulator for production (dashed)' },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      data: { values: projectionRows(cells) },
      mark: { type: 'line', point: true },
      encoding: {
        x: concurrencyX(cells.concurrencies),
        y: { field: 'durationS', type: 'quantitative', title: 'Duration (s)', scale: { zero: true } },
        color: memoryColor(cells.seriesOrder),
        strokeDash: {
          field: 'measure',
          type: 'nominal',
          title: 'Duration',
          scale: {
            domain: [MEASURED, PROJECTED],
            range: [
              [1, 0],
              [6, 4],
            ],
          },
          legend: { symbolType: 'stroke', symbolStrokeColor: PALETTE.ink },
        },
        tooltip: { field: 'tooltip', type: 'nominal' },
      },
    },
  };
}
