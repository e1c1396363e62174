import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { picked, powerTuningCells as cells } from './fixtures/production.ts';
import { results } from './fixtures/results.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * Power Tuning's own encoder, as buildVisualizationURL in its lambda/utils.js writes the URL: each
 * list into a typed array, its bytes in base64, joined by ";" after "#".
 */
function buildVisualizationURL(stats: Array<{ power: number; duration: number; cost: number }>, baseURL: string): string {
  function encode(inputList: number[], EncodeType: Int16ArrayConstructor | Float32ArrayConstructor = Float32Array): string {
    const typed = new EncodeType(inputList);
    return Buffer.from(new Uint8Array(typed.buffer)).toString('base64');
  }
  const sorted = [...stats].sort((p1, p2) => p1.power - p2.power);
  return `${baseURL}#${[
    encode(
      sorted.map((p) => p.power),
      Int16Array,
    ),
    encode(sorted.map((p) => p.duration)),
    encode(sorted.map((p) => p.cost)),
  ].join(';')}`;
}

describe('round trip through Power Tuning', () => {
  let dir: string;
  let resultsFile: string;
  beforeAll(() => {
    dir = scratchDir('power-tuning');
    resultsFile = join(dir, 'results.json');
    writeFileSync(resultsFile, JSON.stringify(results(cells, { recommendation: picked(cells).recommendation })));
  });

  it('exports the short list, imports an output built from known durations, and the errors come out exact', () => {
    const exported = runScript('recommend', [resultsFile, '--format', 'power-tuning']);
    expect(exported.code).toBe(0);
    const input = JSON.parse(exported.stdout) as { powerValues: number[]; num: number };
    expect(input.powerValues).toEqual([128, 256, 512, 1024]);

    // What Power Tuning measured at those sizes (exact in float32), and its costs.
    const measured: Record<number, number> = { 128: 12_500, 256: 7000, 512: 5000, 1024: 4000 };
    const stats = input.powerValues.map((power) => ({ power, duration: measured[power]!, cost: (power / 1024) * (measured[power]! / 1000) * 0.0000166667 }));
    const output = {
      results: {
        power: '512',
        cost: stats[2]!.cost,
        duration: 5000,
        stateMachine: { executionCost: 0.00045, lambdaCost: 0.0004, visualization: buildVisualizationURL(stats, 'https://lambda-power-tuning.show/') },
      },
    };
    const outputFile = join(dir, 'output.json');
    writeFileSync(outputFile, JSON.stringify(output));

    const imported = runScript('import-power-tuning', [outputFile, '--results', resultsFile, '--json']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual([
      { memoryMb: 128, measuredMs: 12_500, predictedMs: 10_000, error: 10_000 / 12_500 - 1 },
      { memoryMb: 256, measuredMs: 7000, predictedMs: 7000, error: 0 },
      { memoryMb: 512, measuredMs: 5000, predictedMs: 5500, error: 5500 / 5000 - 1 },
      { memoryMb: 1024, measuredMs: 4000, predictedMs: 5000, error: 0.25 },
    ]);

    const table = runScript('import-power-tuning', [outputFile, '--results', resultsFile]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/worst error \+25\.0% at 1024 MB: beyond ±10%; revisit the scenario/);

    // The report shows the same beside its charts.
    const html = join(dir, 'report.html');
    const report = runScript('report', [resultsFile, '--out', html, '--power-tuning', outputFile]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain(`### AWS Lambda Power Tuning (${outputFile}) at 32 workers`);
    expect(markdown).toContain('| 128 MB | 12.5 s | 10.0 s | −20.0% |');
    expect(markdown).toContain('| 1024 MB | 4.0 s | 5.0 s | +25.0% |');
    expect(readFileSync(html, 'utf8')).toContain('id="power-tuning"');
    expect(existsSync(join(dir, 'report', 'power-tuning.svg'))).toBe(true);
  });

  it('gives exit 2 and one line for a bad output, a missing results file, or no concurrency to compare at', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ results: { stateMachine: { visualization: 'https://lambda-power-tuning.show/#nope' } } }));
    const decoded = runScript('import-power-tuning', [bad, '--results', resultsFile]);
    expect(decoded.code).toBe(2);
    expect(decoded.stderr).toBe(
      `error: ${bad}: stateMachine.visualization: is not a Power Tuning visualization URL (#powers;durations;costs). Fix: pass Power Tuning's output unchanged, or run it with includeOutputResults: true so that it carries stats\n`,
    );
    const missing = runScript('import-power-tuning', [join(dir, 'none.json'), '--results', resultsFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/none\.json: no such Power Tuning output/);
    const unpicked = join(dir, 'unpicked.json');
    writeFileSync(unpicked, JSON.stringify(results(cells)));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ results: { stats: [{ value: 512, averageDuration: 5000 }] } }));
    const noConcurrency = runScript('import-power-tuning', [good, '--results', unpicked]);
    expect(noConcurrency.code).toBe(2);
    expect(noConcurrency.stderr).toMatch(/recommendation: is absent, so the concurrency Power Tuning ran at is unknown\. Fix: pass --concurrency N/);
    expect(hasStackTrace(noConcurrency.stderr)).toBe(false);
    const withFlag = runScript('import-power-tuning', [good, '--results', unpicked, '--concurrency', '8', '--json']);
    expect(JSON.parse(withFlag.stdout)).toEqual([{ memoryMb: 512, measuredMs: 5000, predictedMs: 9000, error: 0.8 }]);
  });
});
