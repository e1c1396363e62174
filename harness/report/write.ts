import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../write-file.ts';
import type { Results } from '../results/schema.ts';
import { reportCells, type Setting } from './cells.ts';
import { buildCharts } from './charts/index.ts';
import { buildHtml, type LibrarySources } from './html.ts';
import { buildMarkdown } from './markdown.ts';
import { renderSvg } from './svg.ts';
import type { PowerTuningView } from '../production/power-tuning.ts';

/** The one module of the report that touches files; everything it writes is built by pure code. */

export interface WriteReportOptions {
  /** The HTML file; SVGs go to a folder of the same name beside it, the Markdown to <name>.md. */
  outFile?: string;
  current?: Setting;
  /** A Power Tuning run against the predictions (`--power-tuning`). */
  powerTuning?: PowerTuningView;
}

export interface WrittenReport {
  htmlFile: string;
  svgFiles: string[];
  markdownFile: string;
}

/** Default: reports/<scenario-name>.html (the name is [a-z0-9-]+, safe as a file name). */
export function reportPaths(results: Results, outFile?: string): { htmlFile: string; svgDir: string; markdownFile: string } {
  const htmlFile = outFile ?? join('reports', `${results.scenario.name}.html`);
  const stem = join(dirname(htmlFile), basename(htmlFile).replace(/\.html?$/i, ''));
  return { htmlFile, svgDir: stem, markdownFile: `${stem}.md` };
}

/** The minified browser builds, found next to the package entry points Node resolves. */
export function readLibrarySources(): LibrarySources {
  const buildFile = (pkg: string, file: string) => join(dirname(fileURLToPath(import.meta.resolve(pkg))), file);
  return {
    vega: readFileSync(buildFile('vega', 'vega.min.js'), 'utf8'),
    vegaLite: readFileSync(buildFile('vega-lite', 'vega-lite.min.js'), 'utf8'),
    vegaEmbed: readFileSync(buildFile('vega-embed', 'vega-embed.min.js'), 'utf8'),
  };
}

export async function writeReport(results: Results, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const { htmlFile, svgDir, markdownFile } = reportPaths(results, options.outFile);
  try {
    mkdirSync(svgDir, { recursive: true });
  } catch (error) {
    throw new InputError({
      file: htmlFile,
      field: '--out',
      problem: `cannot create ${svgDir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      fix: 'choose an --out path in a writable folder',
    });
  }
  const cells = reportCells(results);
  const charts = buildCharts(results, cells, options.powerTuning ? { powerTuning: options.powerTuning } : {});
  const svgs: Record<string, string> = {};
  for (const chart of charts) svgs[chart.id] = await renderSvg(chart.spec);

  // A chart dropped since the last run (no recommendation any more) must not linger beside the new ones.
  for (const name of readdirSync(svgDir)) {
    if (name.endsWith('.svg') && !(name.slice(0, -4) in svgs)) rmSync(join(svgDir, name));
  }
  const svgFiles = charts.map((chart) => {
    const file = join(svgDir, `${chart.id}.svg`);
    writeFileAtomic(file, svgs[chart.id]!);
    return file;
  });

  writeFileAtomic(
    htmlFile,
    buildHtml(results, { libraries: readLibrarySources(), current: options.current, charts, staticSvgs: svgs, powerTuning: options.powerTuning }),
  );
  const fromMarkdown = (file: string) =>
    encodeURI(relative(dirname(markdownFile), file).split('\\').join('/')).replace(/\(/g, '%28').replace(/\)/g, '%29');
  writeFileAtomic(
    markdownFile,
    buildMarkdown(results, {
      current: options.current,
      powerTuning: options.powerTuning,
      htmlHref: fromMarkdown(htmlFile),
      charts: charts.map((chart, i) => ({ id: chart.id, title: chart.title, href: fromMarkdown(svgFiles[i]!) })),
    }),
  );
  return { htmlFile, svgFiles, markdownFile };
}
