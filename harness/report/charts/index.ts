import type { Results } from '../../results/schema.ts';
import { findCell, reportCells, type ReportCells } from '../cell-views.ts';
import { isCompleted } from '../../results/schema.ts';
import { costChart } from './cost.ts';
import type { ReportChart } from './common.ts';
import { durationChart } from './duration.ts';
import { errorChart } from './errors.ts';
import { fidelityChart } from './fidelity.ts';
import { heatmapChart } from './heatmap.ts';
import { latencyChart } from './latency.ts';
import { memoryChart } from './memory.ts';
import { paretoChart } from './pareto.ts';
import { productionChart } from './production.ts';
import { powerTuningChart } from './power-tuning.ts';
import type { PowerTuningView } from '../../production/power-tuning.ts';
import { projectionChart } from './projection.ts';
import { waterfallChart } from './waterfall.ts';

export type { ReportChart } from './common.ts';

/** Every id a chart may have (its SVG is <id>.svg): what a report may write into its chart folder. */
export const CHART_IDS: readonly string[] = [
  'duration',
  'cost',
  'heatmap-cost',
  'heatmap-duration',
  'pareto',
  'errors',
  'memory',
  'latency',
  'fidelity',
  'projection',
  'waterfall',
];

/**
 * Every chart of the report, in reading order. Charts that need a completed cell are left out
 * when there is none, the latency chart needs the recommended cell, and the projection chart a
 * cell the simulator projected (results written before it, and simulated sweeps, have none), and
 * the production chart the logs of `--production`, the Power Tuning chart a Power Tuning run.
 */
export function buildCharts(results: Results, cells: ReportCells = reportCells(results), extras: { powerTuning?: PowerTuningView } = {}): ReportChart[] {
  if (!cells.views.some((v) => v.cell.state === 'completed')) return [];
  const charts: ReportChart[] = [
    durationChart(cells, results.method.reps),
    costChart(cells, results.scenario.lambda.invocationsPerMonth),
    heatmapChart(cells, 'cost'),
    heatmapChart(cells, 'duration'),
    paretoChart(cells),
    errorChart(cells),
    memoryChart(cells),
  ];
  // A cell whose requests all failed before any was timed has no latency to show.
  if (cells.recommended && cells.recommended.requestLatencyMs.histogram.counts.length > 0) {
    charts.push(latencyChart(cells.recommended, 'recommended'));
    charts.push(waterfallChart(results.scenario, cells.recommended.concurrency, cells.recommended.memoryMb));
  }
  charts.push(fidelityChart(cells));
  if (cells.views.some((v) => v.cell.state === 'completed' && v.cell.projectedMs !== undefined)) charts.push(projectionChart(cells));
  if (results.production) {
    const today = findCell(results, { ...results.production, architecture: results.scenario.lambda.architecture });
    charts.push(productionChart(results.production, today && isCompleted(today) ? today : undefined));
  }
  if (extras.powerTuning && extras.powerTuning.rows.length > 0) charts.push(powerTuningChart(extras.powerTuning));
  return charts;
}
