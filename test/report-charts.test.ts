import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { paretoFront } from '../harness/analyze/pareto.ts';
import { reportCells } from '../harness/report/cell-views.ts';
import { buildCharts } from '../harness/report/charts/index.ts';
import { costRows } from '../harness/report/charts/cost.ts';
import { durationRows } from '../harness/report/charts/duration.ts';
import { errorRows } from '../harness/report/charts/errors.ts';
import { fidelityRows, fidelityChart } from '../harness/report/charts/fidelity.ts';
import { heatmapRows } from '../harness/report/charts/heatmap.ts';
import { latencyBucketRows, latencyPercentileRows } from '../harness/report/charts/latency.ts';
import { memoryLimitRows, oomRows, peakMemoryRows } from '../harness/report/charts/memory.ts';
import { paretoRows } from '../harness/report/charts/pareto.ts';
import { projectionChart, projectionRows } from '../harness/report/charts/projection.ts';
import { isCompleted } from '../harness/results/schema.ts';
import { resultsSchema } from '../harness/results/schema.ts';
import { completedCell, results } from './fixtures/results.ts';
import { modelledSmallSweep, modelledSweepResults, smallSweep, sweepResults } from './fixtures/sweep-results.ts';

const schema = JSON.parse(readFileSync('node_modules/vega-lite/build/vega-lite-schema.json', 'utf8')) as object;
const validateSpec = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false }).compile(schema);

/** Vega-Lite's own warnings while compiling (a conflicting legend, a dropped channel...). */
function compileWarnings(spec: TopLevelSpec): string[] {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...parts: unknown[]) => (warnings.push(parts.join(' ')), logger),
    info: () => logger,
    debug: () => logger,
    error: (...parts: unknown[]) => (warnings.push(`error: ${parts.join(' ')}`), logger),
  };
  // The logger interface is vega-util's; this stub answers every call it makes.
  compile(spec, { logger: logger as never });
  return warnings;
}

describe('the charts of a full sweep', () => {
  const sweep = sweepResults();
  const charts = buildCharts(sweep);

  it('the sweep fixture honours the results contract', () => {
    expect(resultsSchema.safeParse(sweep).success).toBe(true);
    expect(sweep.cells.map((c) => c.state).filter((s) => s !== 'completed')).toEqual(['oom', 'oom', 'errored']);
  });

  it('are the ten charts of the report, in reading order', () => {
    expect(charts.map((c) => c.id)).toEqual([
      'duration',
      'cost',
      'heatmap-cost',
      'heatmap-duration',
      'pareto',
      'errors',
      'memory',
      'latency',
      'waterfall',
      'fidelity',
    ]);
  });

  it.each(charts.map((c) => [c.id, c.spec] as const))('%s is valid against the Vega-Lite JSON schema', (_id, spec) => {
    const valid = validateSpec(spec);
    expect(validateSpec.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(charts.map((c) => [c.id, c.spec] as const))('%s compiles without a Vega-Lite warning', (_id, spec) => {
    expect(compileWarnings(spec)).toEqual([]);
  });

  it('puts concurrency on a log-2 axis whose ticks are the values measured', () => {
    const spec = charts.find((c) => c.id === 'cost')!.spec as { encoding: { x: { scale: object; axis: { values: number[] } } } };
    expect(spec.encoding.x.scale).toEqual({ type: 'log', base: 2, nice: false, padding: 12 });
    expect(spec.encoding.x.axis.values).toEqual([1, 2, 4, 8, 16, 32, 60, 64, 128]);
  });

  it('colours memory sizes as ordered categories, 128 MB before 1024 MB', () => {
    const spec = charts.find((c) => c.id === 'cost')!.spec as { encoding: { color: { type: string; scale: { domain: string[] } } } };
    expect(spec.encoding.color.type).toBe('ordinal');
    expect(spec.encoding.color.scale.domain).toEqual(['128 MB', '256 MB', '512 MB', '1024 MB', '1769 MB', '3008 MB']);
  });

  it('plots every completed cell on the Pareto chart and 5 of them on the front', () => {
    const rows = paretoRows(reportCells(sweep));
    expect(rows).toHaveLength(51);
    expect(rows.filter((r) => r.onFront).map((r) => `${r.concurrency}x${r.memoryMb}`)).toEqual(['60x128', '60x256', '60x512', '60x1024', '60x1769']);
    expect(rows.filter((r) => r.recommended).map((r) => r.label)).toEqual(['recommended: 60 workers, 1024 MB']);
  });
});

describe('chart data of a small sweep', () => {
  const cells = reportCells(smallSweep());

  it('orders series by memory size and lists the concurrencies measured', () => {
    expect(cells.seriesOrder).toEqual(['512 MB', '1024 MB']);
    expect(cells.concurrencies).toEqual([1, 60, 128]);
  });

  it('gives the duration chart the median and confidence interval in seconds, with a sentence', () => {
    expect(durationRows(cells)).toEqual([
      {
        series: '512 MB',
        concurrency: 1,
        memoryMb: 512,
        durationS: 24,
        ciLowS: 22.8,
        ciHighS: 25.2,
        tooltip: '512 MB, 1 worker: 24.0 s, $1.00/month (95% CI of the mean 22.8 s to 25.2 s)',
      },
      {
        series: '512 MB',
        concurrency: 60,
        memoryMb: 512,
        durationS: 9,
        ciLowS: 8.55,
        ciHighS: 9.45,
        tooltip: '512 MB, 60 workers: 9.0 s, $0.60/month, 40% cheaper than 1 worker (95% CI of the mean 8.6 s to 9.4 s)',
      },
      {
        series: '1024 MB',
        concurrency: 1,
        memoryMb: 1024,
        durationS: 23,
        ciLowS: 21.85,
        ciHighS: 24.15,
        tooltip: '1024 MB, 1 worker: 23.0 s, $1.87/month (95% CI of the mean 21.9 s to 24.1 s)',
      },
      {
        series: '1024 MB',
        concurrency: 60,
        memoryMb: 1024,
        durationS: 8.1,
        ciLowS: 7.695,
        ciHighS: 8.505,
        tooltip: '1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker (95% CI of the mean 7.7 s to 8.5 s)',
      },
    ]);
  });

  it('gives the cost chart the monthly cost of each completed cell', () => {
    expect(costRows(cells).map((r) => [r.series, r.concurrency, r.costUsdPerMonth, r.tooltip])).toEqual([
      ['512 MB', 1, 1, '512 MB, 1 worker: 24.0 s, $1.00/month'],
      ['512 MB', 60, 0.6, '512 MB, 60 workers: 9.0 s, $0.60/month, 40% cheaper than 1 worker'],
      ['1024 MB', 1, 1.87, '1024 MB, 1 worker: 23.0 s, $1.87/month'],
      ['1024 MB', 60, 1.16, '1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker'],
    ]);
  });

  it('labels heatmap cells, greys out the failed one, darkens text on dark cells and frames the pick', () => {
    expect(heatmapRows(cells, 'cost')).toEqual([
      {
        series: '512 MB',
        concurrency: 1,
        state: 'completed',
        value: 1,
        label: '$1.00',
        dark: false,
        recommended: false,
        tooltip: '512 MB, 1 worker: 24.0 s, $1.00/month',
      },
      {
        series: '512 MB',
        concurrency: 60,
        state: 'completed',
        value: 0.6,
        label: '$0.60',
        dark: false,
        recommended: false,
        tooltip: '512 MB, 60 workers: 9.0 s, $0.60/month, 40% cheaper than 1 worker',
      },
      {
        series: '512 MB',
        concurrency: 128,
        state: 'oom',
        value: null,
        label: 'OOM',
        dark: false,
        recommended: false,
        tooltip: '512 MB, 128 workers: out of memory (peak memory 530 MB exceeded the 512 MB limit)',
      },
      {
        series: '1024 MB',
        concurrency: 1,
        state: 'completed',
        value: 1.87,
        label: '$1.87',
        dark: true,
        recommended: false,
        tooltip: '1024 MB, 1 worker: 23.0 s, $1.87/month',
      },
      {
        series: '1024 MB',
        concurrency: 60,
        state: 'completed',
        value: 1.16,
        label: '$1.16',
        dark: false,
        recommended: true,
        tooltip: '1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker (recommended)',
      },
    ]);
    expect(heatmapRows(cells, 'duration').map((r) => [r.value, r.label, r.dark])).toEqual([
      [24, '24.0 s', true],
      [9, '9.0 s', false],
      [null, 'OOM', false],
      [23, '23.0 s', true],
      [8.1, '8.1 s', false],
    ]);
  });

  it('marks the Pareto front and the pick among the completed cells', () => {
    expect(paretoRows(cells).map((r) => [r.series, r.concurrency, r.onFront, r.recommended, r.tooltip])).toEqual([
      ['512 MB', 1, false, false, '512 MB, 1 worker: 24.0 s, $1.00/month'],
      ['512 MB', 60, true, false, '512 MB, 60 workers: 9.0 s, $0.60/month, 40% cheaper than 1 worker (on the Pareto front)'],
      ['1024 MB', 1, false, false, '1024 MB, 1 worker: 23.0 s, $1.87/month'],
      ['1024 MB', 60, true, true, '1024 MB, 60 workers: 8.1 s, $1.16/month, 38% cheaper than 1 worker (on the Pareto front, recommended)'],
    ]);
  });

  it('turns errors by kind into rates per request, and adds the requests that failed for good', () => {
    const rows = errorRows(cells).filter((r) => r.series === '1024 MB' && r.concurrency === 60);
    expect(rows).toEqual([
      {
        series: '1024 MB',
        concurrency: 60,
        kind: '429 rate limited',
        rate: 0.2,
        tooltip: '1024 MB, 60 workers: 429 rate limited on 20% of requests (6 attempts in 30 requests)',
      },
      { series: '1024 MB', concurrency: 60, kind: 'timeouts', rate: 0, tooltip: '1024 MB, 60 workers: timeouts on 0% of requests (0 attempts in 30 requests)' },
      { series: '1024 MB', concurrency: 60, kind: '5xx', rate: 0.1, tooltip: '1024 MB, 60 workers: 5xx on 10% of requests (3 attempts in 30 requests)' },
      { series: '1024 MB', concurrency: 60, kind: 'failed after retries', rate: 0.1, tooltip: '1024 MB, 60 workers: 10% of requests failed after retries' },
    ]);
    expect(errorRows(cells)).toHaveLength(16);
  });

  it('shows connection resets only when some cell had one', () => {
    const withReset = reportCells(results([completedCell(1, 512, 1000, { errorsByKind: { http5xx: 0, http429: 0, timeout: 0, reset: 2, other: 0 } })]));
    expect(errorRows(withReset).map((r) => r.kind)).toEqual(['429 rate limited', 'timeouts', '5xx', 'connection resets', 'failed after retries']);
  });

  it('sets peak memory against each limit and marks the out-of-memory cell at its limit', () => {
    expect(peakMemoryRows(cells).map((r) => r.tooltip)).toEqual([
      '512 MB, 1 worker: peak 80 MB (16% of the limit)',
      '512 MB, 60 workers: peak 80 MB (16% of the limit)',
      '1024 MB, 1 worker: peak 80 MB (8% of the limit)',
      '1024 MB, 60 workers: peak 96 MB (9% of the limit)',
    ]);
    expect(memoryLimitRows(cells)).toEqual([
      { series: '512 MB', memoryMb: 512 },
      { series: '1024 MB', memoryMb: 1024 },
    ]);
    expect(oomRows(cells)).toEqual([
      { series: '512 MB', concurrency: 128, memoryMb: 512, tooltip: '512 MB, 128 workers: out of memory (peak memory 530 MB exceeded the 512 MB limit)' },
    ]);
  });

  it('draws the latency histogram of the chosen cell with log-spaced bucket bounds', () => {
    const chosen = cells.recommended!;
    expect(latencyBucketRows(chosen)).toEqual([
      { lowerMs: 82.9813, upperMs: 90.5, count: 5, tooltip: '83 ms to 91 ms: 5 requests (17%)' },
      { lowerMs: 90.5, upperMs: 98.7, count: 20, tooltip: '91 ms to 99 ms: 20 requests (67%)' },
      { lowerMs: 98.7, upperMs: 107.6, count: 5, tooltip: '99 ms to 108 ms: 5 requests (17%)' },
    ]);
    expect(latencyPercentileRows(chosen)).toEqual([
      { name: 'p50', valueMs: 100, label: 'p50 100 ms', labelTopPx: 8 },
      { name: 'p95', valueMs: 120, label: 'p95 120 ms', labelTopPx: 23 },
      { name: 'p99', valueMs: 130, label: 'p99 130 ms', labelTopPx: 38 },
    ]);
  });

  it('plots fidelity per cell with a rule at 1.10', () => {
    expect(fidelityRows(cells).map((r) => r.tooltip)).toEqual([
      '512 MB, 1 worker: measured 24.0 s = 1.00× the ideal 24.0 s',
      '512 MB, 60 workers: measured 9.0 s = 1.00× the ideal 9.0 s',
      '1024 MB, 1 worker: measured 23.0 s = 1.00× the ideal 23.0 s',
      '1024 MB, 60 workers: measured 8.1 s = 1.20× the ideal 6.8 s (above the limit: the harness may be the bottleneck)',
    ]);
    const spec = fidelityChart(cells).spec as { layer: Array<{ data: { values: unknown[] } }> };
    expect(spec.layer[1]!.data.values).toEqual([{ fidelityRatio: 1.1, label: 'limit 1.10' }]);
  });

  it('leaves out the latency chart without a recommendation, and every chart without a completed cell', () => {
    expect(buildCharts(smallSweep({ recommendation: null })).map((c) => c.id)).not.toContain('latency');
    const onlyFailed = smallSweep({ cells: smallSweep().cells.filter((c) => !isCompleted(c)), recommendation: null });
    expect(buildCharts(onlyFailed)).toEqual([]);
  });

  it('falls back to a linear cost axis when a cost is 0, which a log scale cannot place', () => {
    const free = smallSweep({ cells: smallSweep().cells.map((c) => (isCompleted(c) ? { ...c, costUsd: { perInvocation: 0, perMonth: 0 } } : c)) });
    const charts = buildCharts(free);
    const cost = charts.find((c) => c.id === 'cost')!.spec as { encoding: { y: { title: string; scale: { type: string } } } };
    expect([cost.encoding.y.title, cost.encoding.y.scale.type]).toEqual(['Cost per month (USD)', 'linear']);
    const pareto = charts.find((c) => c.id === 'pareto')!.spec as { encoding: { x: { scale: { type: string } }; y: { scale: { type: string } } } };
    expect([pareto.encoding.x.scale.type, pareto.encoding.y.scale.type]).toEqual(['log', 'linear']);
  });

  it('leaves out the latency chart when the chosen cell timed no request', () => {
    const emptyHistogram = smallSweep({
      cells: smallSweep().cells.map((c) =>
        isCompleted(c) && c.concurrency === 60 && c.memoryMb === 1024
          ? { ...c, requestLatencyMs: { ...c.requestLatencyMs, histogram: { upperBoundsMs: [], counts: [] } } }
          : c,
      ),
    });
    expect(buildCharts(emptyHistogram).map((c) => c.id)).not.toContain('latency');
  });

  it('names the architecture in each series when both were swept', () => {
    const mixed = reportCells(results([completedCell(1, 1024, 1000, { architecture: 'x86_64' }), completedCell(1, 1024, 900, { architecture: 'arm64' })]));
    expect(mixed.seriesOrder).toEqual(['1024 MB arm64', '1024 MB x86_64']);
  });
});

describe('the chart of measured vs projected production duration', () => {
  it('follows the ten charts of a modelled sweep, valid and without a Vega-Lite warning', () => {
    const charts = buildCharts(modelledSweepResults());
    expect(charts.map((c) => c.id)).toEqual([
      'duration',
      'cost',
      'heatmap-cost',
      'heatmap-duration',
      'pareto',
      'errors',
      'memory',
      'latency',
      'waterfall',
      'fidelity',
      'projection',
    ]);
    const spec = charts.at(-1)!.spec;
    expect(validateSpec(spec)).toBe(true);
    expect(compileWarnings(spec)).toEqual([]);
  });

  it('is left out for a file without projections', () => {
    expect(buildCharts(sweepResults()).map((c) => c.id)).not.toContain('projection');
    expect(buildCharts(smallSweep()).map((c) => c.id)).not.toContain('projection');
  });

  it('gives each projected cell two points: the measured median, the mock’s CPU included, and the production projection', () => {
    expect(projectionRows(reportCells(modelledSmallSweep()))).toEqual([
      {
        series: '512 MB',
        concurrency: 1,
        memoryMb: 512,
        measure: 'measured',
        durationS: 24,
        tooltip: "512 MB, 1 worker: measured 24.0 s, the mock's own CPU (30 ms) included",
      },
      {
        series: '512 MB',
        concurrency: 1,
        memoryMb: 512,
        measure: 'projected',
        durationS: 23.7,
        tooltip: '512 MB, 1 worker: projected 23.7 s in production, 1% faster than the measured 24.0 s (model error +3.0%)',
      },
      {
        series: '512 MB',
        concurrency: 60,
        memoryMb: 512,
        measure: 'measured',
        durationS: 9,
        tooltip: "512 MB, 60 workers: measured 9.0 s, the mock's own CPU (45 ms) included",
      },
      {
        series: '512 MB',
        concurrency: 60,
        memoryMb: 512,
        measure: 'projected',
        durationS: 8.2,
        tooltip: '512 MB, 60 workers: projected 8.2 s in production, 9% faster than the measured 9.0 s (model error −6.5%)',
      },
      {
        series: '1024 MB',
        concurrency: 1,
        memoryMb: 1024,
        measure: 'measured',
        durationS: 23,
        tooltip: "1024 MB, 1 worker: measured 23.0 s, the mock's own CPU (30 ms) included",
      },
      {
        series: '1024 MB',
        concurrency: 1,
        memoryMb: 1024,
        measure: 'projected',
        durationS: 22.9,
        tooltip: '1024 MB, 1 worker: projected 22.9 s in production, as fast as the measured 23.0 s (model error +2.0%)',
      },
      {
        series: '1024 MB',
        concurrency: 60,
        memoryMb: 1024,
        measure: 'measured',
        durationS: 8.1,
        tooltip: "1024 MB, 60 workers: measured 8.1 s, the mock's own CPU (45 ms) included",
      },
      {
        series: '1024 MB',
        concurrency: 60,
        memoryMb: 1024,
        measure: 'projected',
        durationS: 7.6,
        tooltip: '1024 MB, 60 workers: projected 7.6 s in production, 6% faster than the measured 8.1 s (model error −25.0%)',
      },
    ]);
  });

  it('skips a cell without a projection and leaves out what a cell does not record', () => {
    const cells = reportCells(results([completedCell(1, 512, 1000), completedCell(4, 512, 400, { projectedMs: 380 })]));
    expect(projectionRows(cells).map((r) => r.tooltip)).toEqual([
      '512 MB, 4 workers: measured 400 ms',
      '512 MB, 4 workers: projected 380 ms in production, 5% faster than the measured 400 ms',
    ]);
  });

  it('tells measured from projected by a solid and a dashed line, memory sizes by colour', () => {
    const spec = projectionChart(reportCells(modelledSmallSweep())).spec as {
      encoding: { strokeDash: { field: string; scale: { domain: string[]; range: number[][] } }; color: { scale: { domain: string[] } } };
    };
    expect(spec.encoding.strokeDash).toMatchObject({
      field: 'measure',
      scale: {
        domain: ['measured', 'projected'],
        range: [
          [1, 0],
          [6, 4],
        ],
      },
    });
    expect(spec.encoding.color.scale.domain).toEqual(['512 MB', '1024 MB']);
  });
});

describe('paretoFront', () => {
  it('keeps the points nothing else beats on both duration and cost, fastest first', () => {
    const points = [
      { durationMs: 10, costUsdPerMonth: 5 },
      { durationMs: 20, costUsdPerMonth: 2 },
      { durationMs: 15, costUsdPerMonth: 6 },
      { durationMs: 30, costUsdPerMonth: 2 },
      { durationMs: 5, costUsdPerMonth: 9 },
    ];
    expect(paretoFront(points)).toEqual([
      { durationMs: 5, costUsdPerMonth: 9 },
      { durationMs: 10, costUsdPerMonth: 5 },
      { durationMs: 20, costUsdPerMonth: 2 },
    ]);
  });

  it('keeps both copies of two equal points', () => {
    expect(
      paretoFront([
        { durationMs: 1, costUsdPerMonth: 1 },
        { durationMs: 1, costUsdPerMonth: 1 },
      ]),
    ).toHaveLength(2);
  });
});
