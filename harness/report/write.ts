import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../write-file.ts';
import type { Results } from '../results/schema.ts';
import { reportCells, type Setting } from './cell-views.ts';
import { buildCharts } from './charts/index.ts';
import { chartFile, checkReportTargets, manifestName, ownedFiles, reportPaths, writeManifest } from './targets.ts';

export { reportPaths } from './targets.ts';
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
  checkReportTargets(htmlFile);
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

  // Listed before they are written, so a run that dies half-way leaves files a later report knows
  // as its own; once written, the list is exactly this report's files.
  const listed = ownedFiles(htmlFile);
  const files = [htmlFile, markdownFile, ...charts.map((chart) => chartFile(svgDir, chart.id))].map((file) => manifestName(htmlFile, file));
  writeManifest(svgDir, new Set([...listed, ...files]));
  // A chart dropped since the last report (no recommendation any more) must not linger beside the
  // new ones; only charts an earlier report listed are removed, never another file of the folder.
  const folder = manifestName(htmlFile, svgDir);
  for (const name of listed) {
    if (!files.includes(name) && name.startsWith(`${folder}/`) && name.endsWith('.svg') && !name.slice(folder.length + 1).includes('/')) {
      rmSync(join(dirname(htmlFile), name), { force: true });
    }
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
    encodeURI(relative(dirname(markdownFile), file).split('\\').join('/'))
      .replace(/\(/g, '%28')
      .replace(/\)/g, '%29');
  writeFileAtomic(
    markdownFile,
    buildMarkdown(results, {
      current: options.current,
      powerTuning: options.powerTuning,
      htmlHref: fromMarkdown(htmlFile),
      charts: charts.map((chart, i) => ({ id: chart.id, title: chart.title, href: fromMarkdown(svgFiles[i]!) })),
    }),
  );
  writeManifest(svgDir, files);
  return { htmlFile, svgFiles, markdownFile };
}
