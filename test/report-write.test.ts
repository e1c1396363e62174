import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLibrarySources, reportPaths, writeReport } from '../harness/report/write.ts';
import { REPORT_MANIFEST } from '../harness/report/targets.ts';
import { CHART_IDS } from '../harness/report/charts/index.ts';
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
    // A chart an earlier report wrote and this one does not: removed, being on that report's list.
    mkdirSync(join(scratch, 'written', 'small'), { recursive: true });
    writeFileSync(join(scratch, 'written', 'small', 'projection.svg'), '<svg/>');
    writeFileSync(join(scratch, 'written', 'small', REPORT_MANIFEST), JSON.stringify({ writtenBy: 'fanout-tuner', files: ['small/projection.svg'] }));
    const written = await writeReport(smallSweep(), { outFile, current: { concurrency: 60, memoryMb: 512 } });
    expect(written.htmlFile).toBe(outFile);
    expect(written.markdownFile).toBe(join(scratch, 'written', 'small.md'));
    const charts = ['cost', 'duration', 'errors', 'fidelity', 'heatmap-cost', 'heatmap-duration', 'latency', 'memory', 'pareto', 'waterfall'];
    expect(readdirSync(join(scratch, 'written', 'small')).sort()).toEqual([REPORT_MANIFEST, ...charts.map((id) => `${id}.svg`)]);
    expect(JSON.parse(readFileSync(join(scratch, 'written', 'small', REPORT_MANIFEST), 'utf8'))).toEqual({
      writtenBy: 'fanout-tuner',
      files: ['small.html', 'small.md', ...charts.map((id) => `small/${id}.svg`)].sort(),
    });
    for (const chart of written.svgFiles) expect(CHART_IDS).toContain(basename(chart, '.svg'));
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

  it('writes into a folder of other files, twice, and deletes or replaces none of them', () => {
    const input = join(scratch, 'icons-results.json');
    writeFileSync(input, JSON.stringify(smallSweep()));
    const icons = join(scratch, 'docs', 'icons');
    mkdirSync(icons, { recursive: true });
    writeFileSync(join(icons, 'logo.svg'), '<svg>logo</svg>');
    for (let run = 0; run < 2; run++) {
      const report = runReport([input, '--out', join(scratch, 'docs', 'icons.html')]);
      expect(report.stderr).toBe('');
      expect(report.code).toBe(0);
    }
    expect(readFileSync(join(icons, 'logo.svg'), 'utf8')).toBe('<svg>logo</svg>');
    expect(readdirSync(icons)).toContain('duration.svg');
  });

  it('takes the files of a report written before it kept a list as its own, and only those', async () => {
    const outFile = join(scratch, 'older', 'job.html');
    await writeReport(smallSweep(), { outFile });
    rmSync(join(scratch, 'older', 'job', REPORT_MANIFEST));
    writeFileSync(join(scratch, 'older', 'job', 'logo.svg'), '<svg>logo</svg>');
    const again = await writeReport(smallSweep(), { outFile });
    expect(again.svgFiles).toHaveLength(10);
    expect(readFileSync(join(scratch, 'older', 'job', 'logo.svg'), 'utf8')).toBe('<svg>logo</svg>');

    // Beside an HTML file it did not generate, nothing is taken as its own.
    rmSync(join(scratch, 'older', 'job', REPORT_MANIFEST));
    writeFileSync(outFile, '<!doctype html><title>my page</title>');
    const input = join(scratch, 'older-results.json');
    writeFileSync(input, JSON.stringify(smallSweep()));
    const refused = runReport([input, '--out', outFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `error: ${outFile}: --out: exists and is not a fanout-tuner report, so it is left as it is. Fix: choose another --out, or move the file away\n`,
    );
    expect(readFileSync(outFile, 'utf8')).toBe('<!doctype html><title>my page</title>');
  });

  it('refuses to replace a chart or Markdown file it did not write, or to write onto a directory, and writes nothing', () => {
    const input = join(scratch, 'refuse-results.json');
    writeFileSync(input, JSON.stringify(smallSweep()));
    const site = join(scratch, 'site');
    mkdirSync(join(site, 'charts'), { recursive: true });
    writeFileSync(join(site, 'charts', 'duration.svg'), '<svg>mine</svg>');
    writeFileSync(join(site, 'readme.md'), '# mine\n');
    const cases: [string, string][] = [
      [
        join(site, 'charts.html'),
        `error: ${join(site, 'charts', 'duration.svg')}: --out: exists and was not written by a fanout-tuner report (${join(site, 'charts', REPORT_MANIFEST)} lists those), so it is left alone. Fix: choose another --out, or move the file away\n`,
      ],
      [
        join(site, 'readme.html'),
        `error: ${join(site, 'readme.md')}: --out: exists and was not written by a fanout-tuner report (${join(site, 'readme', REPORT_MANIFEST)} lists those), so it is left alone. Fix: choose another --out, or move the file away\n`,
      ],
      [site, `error: ${site}: --out: does not end in .html. Fix: name the HTML file of the report, such as reports/my-job.html\n`],
      [
        join(site, 'charts'),
        `error: ${join(site, 'charts')}: --out: does not end in .html. Fix: name the HTML file of the report, such as reports/my-job.html\n`,
      ],
    ];
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>my site</title>');
    cases.push([
      join(site, 'index.html'),
      `error: ${join(site, 'index.html')}: --out: exists and is not a fanout-tuner report, so it is left as it is. Fix: choose another --out, or move the file away\n`,
    ]);
    mkdirSync(join(site, 'folder.html'));
    cases.push([
      join(site, 'folder.html'),
      `error: ${join(site, 'folder.html')}: --out: is a directory. Fix: name the HTML file to write, such as ${join(site, 'folder.html', 'report.html')}\n`,
    ]);
    for (const [out, message] of cases) {
      const report = runReport([input, '--out', out]);
      expect({ out, code: report.code, stderr: report.stderr }).toEqual({ out, code: 2, stderr: message });
    }
    expect(readdirSync(site).sort()).toEqual(['charts', 'folder.html', 'index.html', 'readme.md']);
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('<!doctype html><title>my site</title>');
    expect(readdirSync(join(site, 'charts'))).toEqual(['duration.svg']);
    expect(readFileSync(join(site, 'charts', 'duration.svg'), 'utf8')).toBe('<svg>mine</svg>');
    expect(readdirSync(join(site, 'folder.html'))).toEqual([]);
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
    expect(current.stderr).toBe(
      'error: --current: "60" is not a setting. Fix: write CONCURRENCYxMEMORY_MB with a concurrency of at least 1 and a memory size of 128 to 10240, e.g. 60x1024\n',
    );
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
