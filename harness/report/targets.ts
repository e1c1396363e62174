import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { InputError } from '../errors.ts';
import { isDirectory, writeFileAtomic } from '../write-file.ts';
import type { Results } from '../results/schema.ts';
import { CHART_IDS } from './charts/index.ts';

/** Where a report's files go, and which of the files there are the report's own to replace or delete. */

/** Default: reports/<scenario-name>.html (the name is [a-z0-9-]+, safe as a file name). */
export function reportPaths(results: Results, outFile?: string): { htmlFile: string; svgDir: string; markdownFile: string } {
  const htmlFile = outFile ?? join('reports', `${results.scenario.name}.html`);
  return { htmlFile, ...pathsOf(htmlFile) };
}

/**
 * The list of files a report wrote, kept in its chart folder: a later report deletes or replaces
 * only files listed there, so a folder that already held files of its own (docs/icons/ for
 * --out docs/icons.html) loses none of them. Paths are relative to the HTML file's folder.
 */
export const REPORT_MANIFEST = '.fanout-tuner-report.json';

interface ReportManifest {
  writtenBy: 'fanout-tuner';
  files: string[];
}

/**
 * The files of this report's place that are the tool's own: those its list names; with no list
 * yet, those a report written before the list existed left, each known by its own content beside
 * an HTML file this tool generated (its charts as Vega renders them, its Markdown's heading).
 */
export function ownedFiles(htmlFile: string): Set<string> {
  const { svgDir, markdownFile } = pathsOf(htmlFile);
  try {
    const manifest = JSON.parse(readFileSync(join(svgDir, REPORT_MANIFEST), 'utf8')) as Partial<ReportManifest>;
    if (manifest.writtenBy === 'fanout-tuner' && Array.isArray(manifest.files)) return new Set(manifest.files.filter((file) => typeof file === 'string'));
  } catch {
    // No list: a new folder, one this tool never wrote into, or a report older than the list.
  }
  if (!isGeneratedReport(htmlFile)) return new Set();
  const earlier = [
    ...(head(markdownFile).startsWith('## fanout-tuner: ') ? [markdownFile] : []),
    ...CHART_IDS.map((id) => chartFile(svgDir, id)).filter((file) => /^<svg [^>]*class="marks"/.test(head(file))),
  ];
  return new Set(earlier.map((file) => manifestName(htmlFile, file)));
}

/** Whether the HTML file is a report this tool generated (its generator meta tag, in its first lines). */
function isGeneratedReport(htmlFile: string): boolean {
  return /<meta name="generator" content="fanout-tuner /.test(head(htmlFile));
}

/** The first kilobytes of a file, or '' when it cannot be read. */
function head(file: string): string {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(file, 'r');
    const buffer = Buffer.alloc(4096);
    return buffer.subarray(0, readSync(descriptor, buffer, 0, buffer.length, 0)).toString('utf8');
  } catch {
    return '';
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

export function writeManifest(svgDir: string, files: Iterable<string>): void {
  writeFileAtomic(
    join(svgDir, REPORT_MANIFEST),
    `${JSON.stringify({ writtenBy: 'fanout-tuner', files: [...files].sort() } satisfies ReportManifest, null, 2)}\n`,
  );
}

/** A path as the manifest holds it: relative to the HTML file's folder, with forward slashes. */
export function manifestName(htmlFile: string, file: string): string {
  return relative(dirname(htmlFile), file).split('\\').join('/');
}

export function chartFile(svgDir: string, id: string): string {
  return join(svgDir, `${id}.svg`);
}

/**
 * Refuses, before anything is written (and before a sweep starts), a report that would land on a
 * directory or replace a file this tool did not write: an HTML file that is not a report of it,
 * the Markdown beside it, or a chart in its folder that no earlier report listed.
 */
export function checkReportTargets(htmlFile: string, flag: '--out' | '--report' = '--out'): void {
  const { svgDir, markdownFile } = pathsOf(htmlFile);
  const refuse = (file: string, problem: string, fix: string) => {
    throw new InputError({ file, field: flag, problem, fix: fix.replace('--out', flag) });
  };
  if (!/\.html?$/i.test(htmlFile)) refuse(htmlFile, 'does not end in .html', 'name the HTML file of the report, such as reports/my-job.html');
  if (isDirectory(htmlFile)) refuse(htmlFile, 'is a directory', `name the HTML file to write, such as ${join(htmlFile, 'report.html')}`);
  if (isDirectory(markdownFile)) refuse(markdownFile, "is a directory, where the report's Markdown summary goes", 'choose another --out');
  if (existsSync(svgDir) && !isDirectory(svgDir))
    refuse(svgDir, "is a file, where the report's chart folder goes", 'choose another --out, or move the file away');
  const ours = ownedFiles(htmlFile);
  // The HTML file too is replaced only when it is a report of this tool (or empty).
  if (existsSync(htmlFile) && !ours.has(manifestName(htmlFile, htmlFile)) && head(htmlFile) !== '' && !isGeneratedReport(htmlFile)) {
    refuse(htmlFile, 'exists and is not a fanout-tuner report, so it is left as it is', 'choose another --out, or move the file away');
  }
  for (const file of [markdownFile, ...CHART_IDS.map((id) => chartFile(svgDir, id))]) {
    if (existsSync(file) && !ours.has(manifestName(htmlFile, file))) {
      refuse(
        file,
        `exists and was not written by a fanout-tuner report (${join(svgDir, REPORT_MANIFEST)} lists those), so it is left alone`,
        'choose another --out, or move the file away',
      );
    }
  }
}

export function pathsOf(htmlFile: string): { svgDir: string; markdownFile: string } {
  const stem = join(dirname(htmlFile), basename(htmlFile).replace(/\.html?$/i, ''));
  return { svgDir: stem, markdownFile: `${stem}.md` };
}
