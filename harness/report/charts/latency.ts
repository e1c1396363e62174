import type { CompletedCell } from '../../results/schema.ts';
import { formatCount, formatDuration, workers } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, PALETTE, round, type ReportChart } from './common.ts';

export interface LatencyBucketRow {
  lowerMs: number;
  upperMs: number;
  count: number;
  tooltip: string;
}

export interface LatencyPercentileRow {
  name: string;
  valueMs: number;
  label: string;
  /** Pixels from the top for the label, one line apart, so p95 and p99 close together stay legible. */
  labelTopPx: number;
}

/** The buckets are log-spaced: the first one's lower bound continues the spacing of the next. */
export function latencyBucketRows(cell: CompletedCell): LatencyBucketRow[] {
  const { upperBoundsMs, counts } = cell.requestLatencyMs.histogram;
  const total = counts.reduce((a, b) => a + b, 0);
  const ratio = upperBoundsMs.length >= 2 ? upperBoundsMs[1]! / upperBoundsMs[0]! : 2 ** (1 / 8);
  return upperBoundsMs.map((upperMs, i) => {
    const lowerMs = i === 0 ? upperMs / ratio : upperBoundsMs[i - 1]!;
    const count = counts[i] ?? 0;
    const share = total === 0 ? 0 : Math.round((count / total) * 100);
    return {
      lowerMs: round(lowerMs),
      upperMs: round(upperMs),
      count,
      tooltip: `${formatDuration(lowerMs)} to ${formatDuration(upperMs)}: ${formatCount(count)} requests (${share}%)`,
    };
  });
}

export function latencyPercentileRows(cell: CompletedCell): LatencyPercentileRow[] {
  return (['p50', 'p95', 'p99'] as const).map((name, i) => ({
    name,
    valueMs: round(cell.requestLatencyMs[name]),
    label: `${name} ${formatDuration(cell.requestLatencyMs[name])}`,
    labelTopPx: 8 + i * 15,
  }));
}

export function latencyChart(cell: CompletedCell, why: string): ReportChart {
  const x = { field: 'lowerMs', type: 'quantitative', title: 'Request latency (ms, log scale)', scale: { type: 'log', nice: false } } as const;
  return {
    id: 'latency',
    title: `Request latency at ${workers(cell.concurrency)}, ${cell.memoryMb} MB`,
    caption: 'How long single requests took in the chosen cell, every repetition pooled; a long right tail is what p95 and p99 see.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: `Request latency: ${workers(cell.concurrency)}, ${cell.memoryMb} MB (${why})`,
        subtitle: 'Every request of every repetition, in log-spaced buckets; rules: p50, p95, p99',
      },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      layer: [
        {
          data: { values: latencyBucketRows(cell) },
          mark: { type: 'rect', color: '#3e7cb1', stroke: '#ffffff', strokeWidth: 0.5 },
          encoding: {
            x,
            x2: { field: 'upperMs' },
            y: { field: 'count', type: 'quantitative', title: 'Requests' },
            tooltip: { field: 'tooltip', type: 'nominal' },
          },
        },
        {
          data: { values: latencyPercentileRows(cell) },
          layer: [
            {
              mark: { type: 'rule', color: PALETTE.pick, strokeDash: [4, 3], strokeWidth: 1.5 },
              encoding: { x: { ...x, field: 'valueMs' }, tooltip: { field: 'label', type: 'nominal' } },
            },
            {
              mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 11, fontWeight: 600, color: PALETTE.pick },
              encoding: {
                x: { ...x, field: 'valueMs' },
                y: { field: 'labelTopPx', type: 'quantitative', scale: null },
                text: { field: 'label', type: 'nominal' },
              },
            },
          ],
        },
      ],
    },
  };
}
