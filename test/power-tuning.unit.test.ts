import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import {
  comparePowerTuning,
  decodeVisualizationUrl,
  formatPowerTuningTable,
  powerTuningInput,
  readPowerTuningOutput,
  shortList,
} from '../harness/production/power-tuning.ts';
import { buildCharts } from '../harness/report/charts/index.ts';
import { powerTuningRows } from '../harness/report/charts/power-tuning.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';
import { cost, picked, powerTuningCells as cells } from './fixtures/production.ts';
import { completedCell, results, tinyScenario } from './fixtures/results.ts';

describe('the input of Power Tuning', () => {
  it('lists the sizes where the recommended concurrency is feasible, at least 5 invocations each, our strategy', () => {
    const pick = picked(cells, { strategy: 'balanced', weight: 0.25 });
    expect(pick.winner.concurrency).toBe(32);
    const { input, notes } = powerTuningInput(results(cells), pick, { strategy: 'balanced', weight: 0.25 });
    expect(input).toEqual({
      lambdaARN: 'arn:aws:lambda:us-east-1:ACCOUNT_ID:function:FUNCTION_NAME',
      powerValues: [128, 256, 512, 1024],
      num: 5,
      payload: {},
      strategy: 'balanced',
      balancedWeight: 0.25,
      includeOutputResults: true,
    });
    expect(notes).toEqual(["set the function's concurrency (MAX_WORKERS) to 32 before the run: predictions are at 32 workers"]);
    // A race gave the winner 9 repetitions: Power Tuning gets as many invocations per size.
    const raced = cells.map((cell) =>
      cell.concurrency === 32 && cell.memoryMb === 128 && cell.state === 'completed' ? { ...cell, reps: new Array(9).fill(cell.reps[0]!) } : cell,
    );
    const cheapest = powerTuningInput(results(raced), picked(raced), {});
    expect(cheapest.input.strategy).toBe('cost');
    expect(cheapest.input.num).toBe(9);
    expect('balancedWeight' in cheapest.input).toBe(false);
  });

  it("keeps the 5 sizes nearest the pick, and pads fewer than 3 with Power Tuning's sizes, saying they were not swept", () => {
    const many = [128, 256, 512, 1024, 1536, 2048, 3008].map((m) => completedCell(4, m, 5000, cost(m / 1000)));
    expect(shortList(many, picked(many), {}).powerValues).toEqual([128, 256, 512, 1024, 1536]);
    const two = [completedCell(4, 1024, 5000, cost(1)), completedCell(4, 1769, 4000, cost(1.5))];
    const pick = picked(two);
    expect(shortList(two, pick, {})).toEqual({ powerValues: [1024, 1536, 1769], notSwept: [1536] });
    expect(powerTuningInput(results(two), pick, {}).notes[0]).toBe(
      '1536 MB was not swept at 4 workers (Power Tuning needs 3 sizes): import-power-tuning will have no prediction for it; add 1536 to --memory to compare',
    );
  });

  it("carries a deployed function's event as the payload, and names its concurrency variable", () => {
    const scenario = scenarioSchema.parse({
      ...tinyScenario,
      workload: { template: 'template.yaml', function: 'Scraper', event: { pages: 100 }, concurrencyVariable: 'WORKERS' },
    });
    const { input, notes } = powerTuningInput(results(cells, { scenario }), picked(cells), {});
    expect(input.payload).toEqual({ pages: 100 });
    expect(notes).toContain('set WORKERS=32 on the function before the run: predictions are at 32 workers');
    const fromFile = scenarioSchema.parse({ ...scenario, workload: { template: 'template.yaml', function: 'Scraper', event: 'events/run.json' } });
    const exported = powerTuningInput(results(cells, { scenario: fromFile }), picked(cells), {});
    expect(exported.input.payload).toEqual({});
    expect(exported.notes).toContain('the scenario\'s event is the file events/run.json (relative to the scenario file): paste its content as "payload"');
  });
});

describe("Power Tuning's output", () => {
  it("decodes the example visualization URL of Power Tuning's README", () => {
    expect(
      decodeVisualizationUrl('https://lambda-power-tuning.show/#gAAAAQACAAQABsAL;ZooQR4yvkUa/pQRGRC5zRaADHUVjOftE;QdWhOEMkoziDT5Q4xhiIOMYYiDi6RNc4'),
    ).toEqual([
      { memoryMb: 128, measuredMs: 37002.3984375 },
      { memoryMb: 256, measuredMs: 18647.7734375 },
      { memoryMb: 512, measuredMs: 8489.4365234375 },
      { memoryMb: 1024, measuredMs: 3890.8916015625 },
      { memoryMb: 1536, measuredMs: 2512.2265625 },
      { memoryMb: 3008, measuredMs: 2009.7933349609375 },
    ]);
  });

  it('prefers stats, reads the analyzer result alone or in describe-execution, and refuses what is neither', () => {
    const analyzer = {
      power: 512,
      cost: 1e-6,
      duration: 6000,
      stateMachine: { executionCost: 0.00045, lambdaCost: 0.0005, visualization: 'https://lambda-power-tuning.show/#gAA=;AAAAAA==;AAAAAA==' },
      stats: [
        { value: 512, averagePrice: 1e-6, averageDuration: 6000 },
        { value: 128, averagePrice: 2e-6, averageDuration: 11_000 },
      ],
    };
    const expected = [
      { memoryMb: 512, measuredMs: 6000 },
      { memoryMb: 128, measuredMs: 11_000 },
    ];
    expect(readPowerTuningOutput({ results: analyzer }, 'o.json')).toEqual(expected);
    expect(readPowerTuningOutput(analyzer, 'o.json')).toEqual(expected);
    expect(readPowerTuningOutput({ executionArn: 'arn', status: 'SUCCEEDED', output: JSON.stringify({ results: analyzer }) }, 'o.json')).toEqual(expected);
    expect(() => readPowerTuningOutput({ results: { power: 128 } }, 'o.json')).toThrow('o.json: stats: has neither stats nor stateMachine.visualization');
    expect(() => readPowerTuningOutput({ results: { stats: [{ value: 64, averageDuration: 1 }] } }, 'o.json')).toThrow(/o\.json: stats\[0\]: needs "value"/);
    expect(() => decodeVisualizationUrl('https://lambda-power-tuning.show/#gAA;!!;AA', 'o.json')).toThrow(
      /o\.json: stateMachine\.visualization: its durations are not base64 of 4-byte values/,
    );
    expect(() => decodeVisualizationUrl('https://lambda-power-tuning.show/', 'o.json')).toThrow(/is not a Power Tuning visualization URL/);
    // Well-formed base64 of a size Lambda does not have (64 MB) and of a NaN duration.
    const bytes = (typed: Int16Array | Float32Array) => Buffer.from(new Uint8Array(typed.buffer)).toString('base64');
    expect(() => decodeVisualizationUrl(`#${bytes(new Int16Array([64]))};${bytes(new Float32Array([100]))};${bytes(new Float32Array([0]))}`, 'o.json')).toThrow(
      /decodes to 64 MB at 100 ms/,
    );
    expect(() =>
      decodeVisualizationUrl(`#${bytes(new Int16Array([128]))};${bytes(new Float32Array([Number.NaN]))};${bytes(new Float32Array([0]))}`, 'o.json'),
    ).toThrow(/decodes to 128 MB at NaN ms/);
  });

  it('answers any JSON with measurements or one InputError, never another failure', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.string({ maxLength: 80 }).map((hash) => ({ results: { stateMachine: { visualization: `https://lambda-power-tuning.show/#${hash}` } } })),
          // Well-formed base64 of random bytes: sizes and durations of any value, NaN included.
          fc.tuple(fc.uint8Array({ minLength: 2, maxLength: 2 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([powers, durations]) => ({
            results: { stateMachine: { visualization: `#${Buffer.from(powers).toString('base64')};${Buffer.from(durations).toString('base64')};AAAAAA==` } },
          })),
          fc
            .array(fc.record({ value: fc.oneof(fc.integer(), fc.string()), averageDuration: fc.oneof(fc.double(), fc.string()) }), { maxLength: 4 })
            .map((stats) => ({ results: { stats } })),
        ),
        (raw) => {
          try {
            for (const m of readPowerTuningOutput(raw, 'o.json')) expect(m.memoryMb >= 128 && m.memoryMb <= 10_240 && Number.isFinite(m.measuredMs)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prints a table with the worst error against ±10%', () => {
    const rows = comparePowerTuning(
      cells,
      [
        { memoryMb: 512, measuredMs: 5100 },
        { memoryMb: 128, measuredMs: 10_000 },
        { memoryMb: 3008, measuredMs: 4000 },
      ],
      { concurrency: 32, architecture: 'x86_64' },
    );
    expect(rows).toEqual([
      { memoryMb: 128, measuredMs: 10_000, predictedMs: 10_000, error: 0 },
      { memoryMb: 512, measuredMs: 5100, predictedMs: 5500, error: 5500 / 5100 - 1 },
      { memoryMb: 3008, measuredMs: 4000, predictedMs: null, error: null },
    ]);
    expect(formatPowerTuningTable(rows, { outputFile: 'o.json', resultsFile: 'r.json', concurrency: 32 })).toBe(
      [
        'Power Tuning (o.json) against the sweep at 32 workers (r.json):',
        'memory MB   measured  predicted    error',
        '128           10.0 s     10.0 s     0.0%',
        '512            5.1 s      5.5 s    +7.8%',
        '3008           4.0 s  not swept        –',
        'worst error +7.8% at 512 MB: every size within ±10%',
        '',
      ].join('\n'),
    );
  });
});

describe('Power Tuning in the report', () => {
  it('draws the measured and the predicted curve, the predicted only where the sweep has it', () => {
    const view = {
      source: 'o.json',
      concurrency: 32,
      rows: comparePowerTuning(
        cells,
        [
          { memoryMb: 128, measuredMs: 12_500 },
          { memoryMb: 3008, measuredMs: 4000 },
        ],
        { concurrency: 32, architecture: 'x86_64' as const },
      ),
    };
    expect(powerTuningRows(view).map((row) => [row.source, row.memoryMb, row.durationS])).toEqual([
      ['Power Tuning (measured)', 128, 12.5],
      ['fanout-tuner (predicted)', 128, 10],
      ['Power Tuning (measured)', 3008, 4],
    ]);
    expect(buildCharts(results(cells), undefined, { powerTuning: view }).map((c) => c.id)).toContain('power-tuning');
    expect(buildCharts(results(cells)).map((c) => c.id)).not.toContain('power-tuning');
  });
});
