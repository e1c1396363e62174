import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLibrarySources, reportPaths, writeReport } from '../harness/report/write.ts';
import { smallSweep } from './fixtures/sweep-results.ts';

const scratch = mkdtempSync(join(tmpdir(), 'fanout-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runReport(args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/report.ts', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('report files', () => {
  it('go to reports/<scenario>.html, reports/<scenario>/ and reports/<scenario>.md by default', () => {
    expect(reportPaths(smallSweep())).toEqual({ htmlFile: 'reports/tiny.html', svgDir: 'reports/tiny', markdownFile: 'reports/tiny.md' });
  });

  it('go next to --out when it is given', () => {
    expect(reportPaths(smallSweep(), 'out/pr-42.html')).toEqual({ htmlFile: 'out/pr-42.html', svgDir: 'out/pr-42', markdownFile: 'out/pr-42.md' });
  });

  it('are read from the installed browser builds of Vega, Vega-Lite and vega-embed', () => {
    const sources = readLibrarySources();
    expect(sources.vega).toMatch(/\.vega=\{\}/);
    expect(sources.vegaLite).toContain('vegaLite');
    expect(sources.vegaEmbed).toContain('vegaEmbed');
  });

  it('are written by writeReport: the HTML page, one SVG per chart and the Markdown that links them', async () => {
    const outFile = join(scratch, 'written', 'small.html');
    mkdirSync(join(scratch, 'written', 'small'), { recursive: true });
    writeFileSync(join(scratch, 'written', 'small', 'chart-of-an-older-run.svg'), '<svg/>');
    const written = await writeReport(smallSweep(), { outFile, current: { concurrency: 60, memoryMb: 512 } });
    expect(written.htmlFile).toBe(outFile);
    expect(written.markdownFile).toBe(join(scratch, 'written', 'small.md'));
    expect(readdirSync(join(scratch, 'written', 'small')).sort()).toEqual(
      ['cost', 'duration', 'errors', 'fidelity', 'heatmap-cost', 'heatmap-duration', 'latency', 'memory', 'pareto', 'waterfall'].map((id) => `${id}.svg`),
    );
    expect(written.svgFiles).toHaveLength(10);
    expect(readFileSync(written.svgFiles[0]!, 'utf8')).toMatch(/^<svg [^>]*class="marks"/);
    const html = readFileSync(outFile, 'utf8');
    expect(html).toContain('your current 60 workers at 512 MB');
    expect(html).toContain('<script>!function(t,e){"object"==typeof exports');
    const markdown = readFileSync(written.markdownFile, 'utf8');
    expect(markdown).toContain('- [Interactive HTML report](small.html)\n- [Duration vs concurrency](small/duration.svg)\n');
  });
});

describe('npm run report', () => {
  it('writes the report of a results file and prints where', () => {
    const input = join(scratch, 'cli-results.json');
    writeFileSync(input, JSON.stringify(smallSweep()));
    const outFile = join(scratch, 'cli', 'report.html');
    const run = runReport([input, '--out', outFile, '--current', '1x512']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(outFile);
    expect(readFileSync(outFile, 'utf8')).toContain('your current 1 worker at 512 MB');
  });

  it('refuses a missing results file with one line, exit 2, and writes nothing', () => {
    const outFile = join(scratch, 'never', 'report.html');
    const run = runReport([join(scratch, 'missing.json'), '--out', outFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: ${join(scratch, 'missing.json')}: no such results file. Fix: check the path\n`);
    expect(existsSync(join(scratch, 'never'))).toBe(false);
  });

  it('refuses a file that is not a results file, naming the field', () => {
    const input = join(scratch, 'not-results.json');
    writeFileSync(input, JSON.stringify({ ...smallSweep(), cells: 'none' }));
    const run = runReport([input, '--out', join(scratch, 'never2', 'r.html')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^.*not-results\.json: cells: .*Fix: pass a results file written by `npm run sweep`/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a bad --current and an unknown flag with exit 2', () => {
    const current = runReport(['whatever.json', '--current', '60']);
    expect(current.code).toBe(2);
    expect(current.stderr).toBe('error: --current: "60" is not a setting. Fix: write CONCURRENCYxMEMORY_MB with a concurrency of at least 1 and a memory size of 128 to 10240, e.g. 60x1024\n');
    const flag = runReport(['whatever.json', '--colour', 'red']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("error: unknown option '--colour'. Fix: run with --help for the usage\n");
  });

  it('explains itself with --help', () => {
    const run = runReport(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: report [options] <results>');
    expect(run.stdout).toContain('--current <CxM>');
  });
});
