import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLambdaReports, parseReportLine } from '../harness/production/cloudwatch.ts';
import {
  coldStarts,
  logsMemorySize,
  priceColdStarts,
  productionWarning,
  requireInGrid,
  summarizeProduction,
  todaySetting,
  withProduction,
} from '../harness/production/compare.ts';
import { invocationCost } from '../harness/model/pricing.ts';
import { buildCharts } from '../harness/report/charts/index.ts';
import { productionBucketRows, productionChart, productionMarkRows } from '../harness/report/charts/production.ts';
import { buildHtml } from '../harness/report/html.ts';
import { buildMarkdown } from '../harness/report/markdown.ts';
import { productionSchema, resultsSchema, type CompletedCell } from '../harness/results/schema.ts';
import { COLD, SNAPSTART, WARM } from './fixtures/production.ts';
import { completedCell, failedCell, results, tinyScenario } from './fixtures/results.ts';

describe('REPORT lines', () => {
  it('reads a warm invocation, tab-separated', () => {
    expect(parseReportLine(WARM)).toEqual({
      requestId: '3f6a1c2e-0001',
      durationMs: 7712.34,
      billedDurationMs: 7713,
      memorySizeMb: 1024,
      maxMemoryUsedMb: 121,
    });
  });

  it('reads Init Duration on a cold start', () => {
    expect(parseReportLine(COLD)).toMatchObject({ durationMs: 8012.5, billedDurationMs: 8348, initDurationMs: 335.21 });
    expect(parseReportLine(COLD)?.restoreDurationMs).toBeUndefined();
  });

  it("reads SnapStart's Restore Duration and Billed Restore Duration", () => {
    expect(parseReportLine(SNAPSTART)).toMatchObject({ restoreDurationMs: 474.16, billedRestoreDurationMs: 190, durationMs: 7800 });
    expect(parseReportLine(SNAPSTART)?.initDurationMs).toBeUndefined();
  });

  it('reads fields separated by one or several spaces, and behind the prefix aws logs tail prints', () => {
    const spaced = 'REPORT RequestId: a0537bcb Duration: 718.65 ms Billed Duration: 800 ms Memory Size: 128 MB Max Memory Used: 14 MB';
    expect(parseReportLine(spaced)).toEqual({ requestId: 'a0537bcb', durationMs: 718.65, billedDurationMs: 800, memorySizeMb: 128, maxMemoryUsedMb: 14 });
    const tail =
      '2026-11-30T08:00:01.123000+00:00 2026/11/30/[$LATEST]4b0c9f7e REPORT RequestId: b1  Duration: 395.99 ms  Billed Duration: 662 ms  Memory Size: 512 MB  Max Memory Used: 301 MB  Init Duration: 265.72 ms';
    expect(parseReportLine(tail)).toEqual({
      requestId: 'b1',
      durationMs: 395.99,
      billedDurationMs: 662,
      memorySizeMb: 512,
      maxMemoryUsedMb: 301,
      initDurationMs: 265.72,
    });
  });

  it('reads the columns aws logs filter-log-events --output text prints around the message', () => {
    const text = `EVENTS\t37946211453893453\t1764489601123\t2026/11/30/[$LATEST]4b0c\t${WARM}\t1764489601000`;
    expect(parseReportLine(text)).toEqual({
      requestId: '3f6a1c2e-0001',
      durationMs: 7712.34,
      billedDurationMs: 7713,
      memorySizeMb: 1024,
      maxMemoryUsedMb: 121,
    });
  });

  it("ignores START, END, INIT_REPORT, the function's own lines and a REPORT without its durations", () => {
    expect(parseReportLine('START RequestId: x Version: $LATEST')).toBeUndefined();
    expect(parseReportLine('END RequestId: x')).toBeUndefined();
    expect(parseReportLine('INIT_REPORT Init Duration: 120.00 ms\tPhase: init\tStatus: error')).toBeUndefined();
    expect(parseReportLine('2026-11-30T08:00:01.123Z\tx\tINFO\tDuration: 5 ms of work')).toBeUndefined();
    expect(parseReportLine('REPORT RequestId: x\tMemory Size: 128 MB')).toBeUndefined();
  });
});

describe('a log export', () => {
  it('takes REPORT lines out of a mix with other lines, each request once', () => {
    const text = ['START RequestId: 3f6a1c2e-0001 Version: $LATEST', 'fetched 100 pages', 'END RequestId: 3f6a1c2e-0001', WARM, COLD, WARM, ''].join('\n');
    expect(parseLambdaReports(text).map((r) => r.requestId)).toEqual(['3f6a1c2e-0001', '3f6a1c2e-0002']);
  });

  it('reads platform.report events of the JSON log format, one a line or behind a prefix', () => {
    const event = {
      time: '2026-11-30T08:00:09.000Z',
      type: 'platform.report',
      record: {
        requestId: 'json-1',
        metrics: { durationMs: 7712.34, billedDurationMs: 8048, memorySizeMB: 1024, maxMemoryUsedMB: 121, initDurationMs: 335.2 },
        status: 'success',
      },
    };
    const noSize = { ...event, record: { requestId: 'json-2', metrics: { durationMs: 10, billedDurationMs: 10, maxMemoryUsedMB: 60 } } };
    const text = [
      JSON.stringify({ time: '2026-11-30T08:00:00.000Z', type: 'platform.start', record: { requestId: 'json-1' } }),
      `2026-11-30T08:00:09.000000+00:00 2026/11/30/[$LATEST]4b0c ${JSON.stringify(event)}`,
      JSON.stringify(noSize),
    ].join('\n');
    expect(parseLambdaReports(text)).toEqual([
      { requestId: 'json-1', durationMs: 7712.34, billedDurationMs: 8048, memorySizeMb: 1024, maxMemoryUsedMb: 121, initDurationMs: 335.2 },
      { requestId: 'json-2', durationMs: 10, billedDurationMs: 10, maxMemoryUsedMb: 60 },
    ]);
  });

  it('reads the JSON aws logs filter-log-events prints, text and JSON messages alike', () => {
    const output = {
      events: [
        {
          logStreamName: '2026/11/30/[$LATEST]4b0c',
          timestamp: 1,
          message: 'START RequestId: 3f6a1c2e-0001 Version: $LATEST\n',
          ingestionTime: 2,
          eventId: '1',
        },
        { logStreamName: '2026/11/30/[$LATEST]4b0c', timestamp: 3, message: `${WARM}\n`, ingestionTime: 4, eventId: '2' },
        {
          logStreamName: '2026/11/30/[$LATEST]4b0c',
          timestamp: 5,
          message: JSON.stringify({
            time: 't',
            type: 'platform.report',
            record: { requestId: 'json-3', metrics: { durationMs: 5, billedDurationMs: 6, memorySizeMB: 128, maxMemoryUsedMB: 50 } },
          }),
          ingestionTime: 6,
          eventId: '3',
        },
      ],
      searchedLogStreams: [],
    };
    expect(parseLambdaReports(JSON.stringify(output, null, 4)).map((r) => [r.requestId, r.durationMs])).toEqual([
      ['3f6a1c2e-0001', 7712.34],
      ['json-3', 5],
    ]);
  });

  it('never throws on arbitrary text or JSON, and every record it returns has its two durations', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
          fc
            .array(fc.constantFrom(WARM, COLD, SNAPSTART, 'REPORT RequestId:', '{"type":"platform.report"', 'Duration: ms'), { maxLength: 6 })
            .map((lines) => lines.join('\n')),
        ),
        (text) => {
          for (const report of parseLambdaReports(text)) {
            expect(Number.isFinite(report.durationMs) && Number.isFinite(report.billedDurationMs)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds nothing in a file without a REPORT record', () => {
    expect(parseLambdaReports('START RequestId: x\nEND RequestId: x\n')).toEqual([]);
    expect(parseLambdaReports('{"events": []}')).toEqual([]);
  });
});

function report(id: number, durationMs: number, extra: Partial<{ init: number; memory: number }> = {}) {
  return {
    requestId: `r${id}`,
    durationMs,
    billedDurationMs: Math.ceil(durationMs + (extra.init ?? 0)),
    memorySizeMb: extra.memory ?? 1024,
    maxMemoryUsedMb: 100 + id,
    ...(extra.init !== undefined ? { initDurationMs: extra.init } : {}),
  };
}

describe('production against the prediction', () => {
  const reports = [report(1, 8000, { init: 300 }), report(2, 10_000), report(3, 9000), report(4, 11_000, { init: 500 })];
  const cells = [completedCell(8, 1024, 9900), completedCell(8, 512, 14_000), failedCell(16, 1024, 'oom', 'heap')];

  it("summarises the records, bills them and gives the error against the sweep at today's setting", () => {
    const production = summarizeProduction(reports, { source: 'logs.txt', setting: { concurrency: 8, memoryMb: 1024 }, cells, scenario: tinyScenario });
    // Durations 8000, 9000, 10000, 11000: median 9500, p95 10850; billed 8300, 10000, 9000, 11500: mean 9700.
    expect(production).toMatchObject({
      source: 'logs.txt',
      concurrency: 8,
      memoryMb: 1024,
      invocations: 4,
      durationMs: { median: 9500, p95: 10_850 },
      billedMs: 9700,
      maxMemoryUsedMb: 104,
      initDurationMs: 400,
      coldStartRate: 0.5,
      predictedMs: 9900,
    });
    expect(production.error).toBeCloseTo(9900 / 9500 - 1, 12);
    expect(production.costUsd).toEqual(invocationCost({ billedMs: 9700, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 8640 }));
    expect(productionSchema.parse(production)).toEqual(production);
  });

  it("has no prediction when today's cell failed, and says so", () => {
    const production = summarizeProduction(reports, { source: 'logs.txt', setting: { concurrency: 16, memoryMb: 1024 }, cells, scenario: tinyScenario });
    expect(production.predictedMs).toBeUndefined();
    expect(productionWarning(production)).toMatch(/16 workers at 1024 MB, did not complete in this sweep/);
  });

  it('warns beyond ±10% and says what to revisit, CPU first for a CPU-bound job', () => {
    const base = summarizeProduction(reports, { source: 'logs.txt', setting: { concurrency: 8, memoryMb: 1024 }, cells, scenario: tinyScenario });
    expect(productionWarning(base)).toBeUndefined();
    const fast = { ...base, predictedMs: 7600, error: 7600 / 9500 - 1 };
    expect(productionWarning(fast)).toBe(
      "Production (logs.txt): the sweep predicts 7.6 s at 8 workers at 1024 MB, production's median is 9.5 s over 4 invocations (−20.0%, beyond ±10%). " +
        'The scenario is faster than production: revisit its host latencies (the slowest hosts and their tails, connection setup), capacities and rate limits that may be too generous; its response body sizes that may be too small; its parse cost (work.parse) that may be too cheap.',
    );
    expect(productionWarning({ ...base, predictedMs: 11_400, error: 0.2 }, 'cpu-bound')).toMatch(
      /slower than production: revisit its parse cost \(work.parse\) that may be too dear; its response body sizes/,
    );
    // Exactly at the tolerance is still within it.
    expect(productionWarning({ ...base, error: 0.1 })).toBeUndefined();
  });

  it('puts the block and its warning into results that still validate, replacing an earlier one', () => {
    const production = {
      ...summarizeProduction(reports, { source: 'a.txt', setting: { concurrency: 8, memoryMb: 1024 }, cells, scenario: tinyScenario }),
      predictedMs: 5000,
      error: -0.5,
    };
    const once = withProduction(results(cells, { warnings: ['kept'] }), production);
    const twice = withProduction(once, { ...production, source: 'b.txt' });
    expect(twice.warnings).toHaveLength(2);
    expect(twice.warnings[0]).toBe('kept');
    expect(twice.warnings[1]).toMatch(/^Production \(b\.txt\)/);
    expect(resultsSchema.parse(JSON.parse(JSON.stringify(twice))).production?.source).toBe('b.txt');
    // Files written before production existed still load.
    expect(resultsSchema.parse(JSON.parse(JSON.stringify(results(cells)))).production).toBeUndefined();
  });

  it("takes the memory size the logs ran at, and today's concurrency from the flag or template", () => {
    expect(logsMemorySize([report(1, 1), report(2, 1, { memory: 512 }), report(3, 1)])).toEqual({ memoryMb: 1024, leftOut: 1 });
    expect(todaySetting('logs.txt', 1024, { setting: { concurrency: 60 }, field: 'template.yaml' })).toEqual({ concurrency: 60, memoryMb: 1024 });
    expect(todaySetting('logs.txt', undefined, { setting: { concurrency: 60, memoryMb: 512 }, field: '--current' })).toEqual({
      concurrency: 60,
      memoryMb: 512,
    });
    expect(() => todaySetting('logs.txt', 1024, { setting: undefined, field: '--current' })).toThrow(/pass --current CONCURRENCYxMEMORY_MB/);
    expect(() => todaySetting('logs.txt', 1024, { setting: { concurrency: 60, memoryMb: 512 }, field: '--current' })).toThrow(
      '--current: says 512 MB, but the REPORT records of logs.txt ran at 1024 MB. Fix: pass --current 60x1024',
    );
    expect(() => requireInGrid({ concurrency: 60, memoryMb: 1024 }, { concurrency: [8, 64], memoryMb: [1024] })).toThrow(/add 60 to --concurrency$/);
  });

  it("bills production's INIT at its cold-start rate into every completed cell", () => {
    const starts = coldStarts(reports);
    expect(starts).toEqual({ initDurationMs: 400, coldStartRate: 0.5 });
    const priced = priceColdStarts(cells, tinyScenario, starts);
    const cell = priced[0]!;
    if (cell.state !== 'completed') throw new Error('expected a completed cell');
    // 9900 ms billed plus half of 400 ms INIT, at 1 GB: 10.1 GB-s at $0.0000166667, plus the request.
    expect(cell.costUsd.perInvocation).toBeCloseTo(10.1 * 0.0000166667 + 0.2 / 1e6, 15);
    expect(priced[2]).toBe(cells[2]);
    expect(priceColdStarts(cells, tinyScenario, { initDurationMs: undefined, coldStartRate: 0 })).toEqual(cells);
  });
});

describe('production in the report', () => {
  const reports = [report(1, 9000), report(2, 9100, { init: 250 }), report(3, 9200), report(4, 9300)];
  const cells = [completedCell(8, 1024, 9900), completedCell(8, 512, 14_000)];
  const production = summarizeProduction(reports, { source: 'logs.txt', setting: { concurrency: 8, memoryMb: 1024 }, cells, scenario: tinyScenario });

  it("draws production's durations as shares beside the sweep's repetitions and both medians", () => {
    const buckets = productionBucketRows(production);
    expect(buckets.reduce((sum, row) => sum + row.share, 0)).toBeCloseTo(1, 5);
    expect(buckets.every((row) => row.upperS > row.lowerS)).toBe(true);
    // Each duration falls in the bucket whose bounds hold it.
    for (const ms of [9000, 9100, 9200, 9300]) expect(buckets.some((row) => row.lowerS < ms / 1000 && ms / 1000 <= row.upperS && row.share > 0)).toBe(true);
    const marks = productionMarkRows(production, cells[0] as CompletedCell);
    expect(marks.map((m) => [m.kind, m.valueS])).toEqual([
      ['production', 9.15],
      ['predicted', 9.9],
      ['repetition', 9.702],
      ['repetition', 9.9],
      ['repetition', 10.098],
    ]);
    expect(productionChart(production, cells[0] as CompletedCell).id).toBe('production');
  });

  it('is a chart, an HTML section and a Markdown line of the report', () => {
    const withLogs = withProduction(results(cells), production);
    expect(buildCharts(withLogs).map((c) => c.id)).toContain('production');
    expect(buildCharts(results(cells)).map((c) => c.id)).not.toContain('production');
    const page = buildHtml(withLogs, { libraries: { vega: '', vegaLite: '', vegaEmbed: '' } });
    expect(page).toContain('id="production"');
    expect(page).toContain('+8.2%');
    expect(buildMarkdown(withLogs)).toContain(
      '**Production** (logs.txt): 4 invocations at 8 workers at 1024 MB: median 9.2 s, p95 9.3 s, 25% cold starts (INIT 250 ms), \\$1.33/month; the sweep predicts 9.9 s (+8.2%, within ±10%).',
    );
  });
});
