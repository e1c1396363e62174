import type { PowerTuningView } from '../../production/power-tuning.ts';
import { formatDuration, formatSignedPercent, workers } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, PALETTE, round, type ReportChart } from './common.ts';

export interface PowerTuningChartRow {
  /** "Power Tuning (measured)" or "fanout-tuner (predicted)". */
  source: string;
  memoryMb: number;
  durationS: number;
  tooltip: string;
}

const MEASURED = 'Power Tuning (measured)';
const PREDICTED = 'fanout-tuner (predicted)';

/** Both curves, one row per memory size and source; sizes without a prediction have only the measured point. */
export function powerTuningRows(view: PowerTuningView): PowerTuningChartRow[] {
  return view.rows.flatMap((row) => [
    {
      source: MEASURED,
      memoryMb: row.memoryMb,
      durationS: round(row.measuredMs / 1000),
      tooltip: `${row.memoryMb} MB: Power Tuning measured ${formatDuration(row.measuredMs)}`,
    },
    ...(row.predictedMs === null || row.error === null
      ? []
      : [
          {
            source: PREDICTED,
            memoryMb: row.memoryMb,
            durationS: round(row.predictedMs / 1000),
            tooltip: `${row.memoryMb} MB: predicted ${formatDuration(row.predictedMs)} at ${workers(view.concurrency)} (${formatSignedPercent(row.error)} against Power Tuning)`,
          },
        ]),
  ]);
}

export function powerTuningChart(view: PowerTuningView): ReportChart {
  return {
    id: 'power-tuning',
    title: `Power Tuning against the prediction at ${workers(view.concurrency)}`,
    caption:
      "Power Tuning's trimmed-mean duration per memory size on AWS beside the sweep's median at the same size and concurrency; where the curves part by more than 10%, trust the measurement.",
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: `AWS Lambda Power Tuning vs prediction, ${workers(view.concurrency)}`, subtitle: `Measured: ${view.source}` },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      data: { values: powerTuningRows(view) },
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'memoryMb',
          type: 'quantitative',
          title: 'Memory (MB, log scale)',
          scale: { type: 'log', base: 2, nice: false, padding: 12 },
          axis: { values: view.rows.map((row) => row.memoryMb), format: 'd', labelOverlap: 'greedy', grid: false },
        },
        y: { field: 'durationS', type: 'quantitative', title: 'Duration (s)', scale: { zero: true } },
        color: {
          field: 'source',
          type: 'nominal',
          title: null,
          legend: { labelLimit: 260 },
          scale: { domain: [MEASURED, PREDICTED], range: [PALETTE.ink, PALETTE.pick] },
        },
        strokeDash: {
          field: 'source',
          type: 'nominal',
          title: null,
          scale: {
            domain: [MEASURED, PREDICTED],
            range: [
              [1, 0],
              [5, 4],
            ],
          },
        },
        tooltip: { field: 'tooltip', type: 'nominal' },
      },
    },
  };
}
