import type { CompletedCell, Production } from '../../results/schema.ts';
import { formatCount, formatDuration, formatSignedPercent, workers } from '../format.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, PALETTE, round, type ReportChart } from './common.ts';

export interface ProductionBucketRow {
  lowerS: number;
  upperS: number;
  /** Share of production's invocations in this bucket. */
  share: number;
  tooltip: string;
}

export interface ProductionMarkRow {
  /** "production median", "predicted median", "repetition 2". */
  name: string;
  valueS: number;
  kind: 'production' | 'predicted' | 'repetition';
  tooltip: string;
}

/** Production's durations in the histogram's log-spaced buckets, as shares of its invocations. */
export function productionBucketRows(production: Production): ProductionBucketRow[] {
  const histogram = production.durationMs.histogram;
  if (!histogram || histogram.counts.length === 0) return [];
  const { upperBoundsMs, counts } = histogram;
  const total = counts.reduce((a, b) => a + b, 0);
  // The buckets are log-spaced: the first one's lower bound continues the spacing of the next.
  const ratio = upperBoundsMs.length >= 2 ? upperBoundsMs[1]! / upperBoundsMs[0]! : 2 ** (1 / 32);
  return upperBoundsMs.map((upperMs, i) => {
    const lowerMs = i === 0 ? upperMs / ratio : upperBoundsMs[i - 1]!;
    const count = counts[i] ?? 0;
    return {
      lowerS: round(lowerMs / 1000),
      upperS: round(upperMs / 1000),
      share: round(total === 0 ? 0 : count / total),
      tooltip: `${formatDuration(lowerMs)} to ${formatDuration(upperMs)}: ${formatCount(count)} of ${formatCount(total)} invocations`,
    };
  });
}

/** The two medians, and each repetition the sweep timed at today's setting. */
export function productionMarkRows(production: Production, predicted: CompletedCell | undefined): ProductionMarkRow[] {
  const rows: ProductionMarkRow[] = [
    {
      name: 'production median',
      valueS: round(production.durationMs.median / 1000),
      kind: 'production',
      tooltip: `Production median: ${formatDuration(production.durationMs.median)} over ${formatCount(production.invocations)} invocations`,
    },
  ];
  if (predicted && production.error !== undefined) {
    rows.push({
      name: 'predicted median',
      valueS: round(predicted.durationMs.median / 1000),
      kind: 'predicted',
      tooltip: `Predicted median: ${formatDuration(predicted.durationMs.median)} (${formatSignedPercent(production.error)} against production)`,
    });
    predicted.reps.forEach((rep, i) =>
      rows.push({
        name: `repetition ${i + 1}`,
        valueS: round(rep.durationMs / 1000),
        kind: 'repetition',
        tooltip: `Sweep repetition ${i + 1}: ${formatDuration(rep.durationMs)}`,
      }),
    );
  }
  return rows;
}

export function productionChart(production: Production, predicted: CompletedCell | undefined): ReportChart {
  const x = { type: 'quantitative', title: 'Duration per invocation (s)', scale: { zero: false } } as const;
  const where = `${workers(production.concurrency)}, ${production.memoryMb} MB`;
  return {
    id: 'production',
    title: `Production against the prediction at ${where}`,
    caption:
      "Bars: production's durations from its REPORT records; thin rules: the sweep's repetitions at today's setting; thick rules: the two medians. Apart by more than 10%, revisit the scenario before trusting the recommendation.",
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: `Production vs prediction: ${where}`,
        subtitle: `${formatCount(production.invocations)} invocations from ${production.source}; INIT excluded, as in the sweep`,
      },
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      config: CHART_CONFIG,
      layer: [
        {
          data: { values: productionBucketRows(production) },
          mark: { type: 'rect', color: '#9aa5b1', stroke: '#ffffff', strokeWidth: 0.5 },
          encoding: {
            x: { ...x, field: 'lowerS' },
            x2: { field: 'upperS' },
            y: { field: 'share', type: 'quantitative', title: 'Share of production invocations', axis: { format: '%' } },
            tooltip: { field: 'tooltip', type: 'nominal' },
          },
        },
        {
          data: { values: productionMarkRows(production, predicted) },
          mark: { type: 'rule' },
          encoding: {
            x: { ...x, field: 'valueS' },
            color: {
              field: 'kind',
              type: 'nominal',
              title: 'Duration',
              scale: { domain: ['production', 'predicted', 'repetition'], range: [PALETTE.ink, PALETTE.pick, PALETTE.pick] },
              legend: { labelExpr: "datum.label == 'production' ? 'production median' : datum.label == 'predicted' ? 'predicted median' : 'sweep repetition'" },
            },
            strokeWidth: { condition: { test: "datum.kind == 'repetition'", value: 1 }, value: 3 },
            strokeDash: { condition: { test: "datum.kind == 'repetition'", value: [4, 3] }, value: [1, 0] },
            tooltip: { field: 'tooltip', type: 'nominal' },
          },
        },
      ],
    },
  };
}
