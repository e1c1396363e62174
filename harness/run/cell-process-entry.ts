import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { madeByEndedRun, recordRun } from './temp-dirs.ts';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { keepBundle, readKeptBundle, type BundleFiles } from './kept-bundle.ts';
import { onExit } from './on-exit.ts';

/**
 * How to start a child process whose code is TypeScript: the cell process, and the benchmark's
 * overhead process. Each entry and its packages (msw, undici, htmlparser2) are bundled into ES
 * modules (each run gets its own copy of a bundle kept while its sources are unchanged:
 * kept-bundle.ts), so a child starts plain Node and reads a few files instead of hundreds: ready
 * in about 0.3 s here, against 0.7 s with the packages left external and 1.4 s with the
 * TypeScript loader, which also adds about 38 MB of memory to every child. The bundles are split:
 * what only some jobs use (the in-process backends, the undici package) is in chunks loaded on
 * first use, so it never counts in the memory of a job that does not. Packages a job may load
 * later stay external and resolve from the project's node_modules, which is why the bundles live
 * under it.
 */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

/** Loaded only by some jobs, and with files of their own (PGlite's WebAssembly, piscina's worker). */
const EXTERNAL_PACKAGES = ['pg', 'pg-native', '@electric-sql/pglite', 'piscina', 'tsx'];
const TSX = import.meta.resolve('tsx');
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE_DIR = `${PROJECT_ROOT}node_modules/.cache/fanout-tuner/`;
/** Where esbuild is told the files go; they are written to each run's own directory instead. */
const KEPT_OUTDIR = `${CACHE_DIR}out`;
const BUNDLE_NAME = /^(?:[a-z-]+-)?(\d+)(?:\.mjs)?$/;

const CELL_SOURCE = fileURLToPath(new URL('./cell-process.ts', import.meta.url));
const bundles = new Map<string, Promise<ChildEntry>>();

/** The TypeScript loader is still needed when the child imports TypeScript at run time (a user's handler). */
export function typeScriptEntry(source: string = CELL_SOURCE): ChildEntry {
  return { file: source, execArgv: ['--import', TSX] };
}

/** The cell process, bundled. */
export function bundledEntry(): Promise<ChildEntry> {
  return bundleEntry(CELL_SOURCE, 'child', { splitting: true });
}

/**
 * `source` bundled under `name`. With `splitting`, each dynamic import gets a chunk of its own
 * that loads only when imported, so a child that picks one of several backends at run time
 * holds only that one in memory.
 */
export function bundleEntry(source: string, name: string, options: { splitting?: boolean } = {}): Promise<ChildEntry> {
  const key = `${name}:${source}`;
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = build$(source, name, options.splitting ?? false);
    bundles.set(key, bundle);
  }
  return bundle;
}

async function build$(source: string, name: string, splitting: boolean): Promise<ChildEntry> {
  const outdir = `${CACHE_DIR}${name}-${process.pid}`;
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    removeBundlesOfDeadRuns();
    const files = await keptOrBuilt(source, name, splitting);
    // The directory, its record and its removal at exit come first, all before the next await:
    // however the run ends from here, the directory goes with it or the next run removes it.
    mkdirSync(outdir, { recursive: true });
    recordRun(outdir);
    // On a signal too (Ctrl-C, SIGTERM), where Node runs no 'exit' listener: onExit covers both.
    onExit(() => rmSync(outdir, { recursive: true, force: true }));
    for (const file of files) {
      mkdirSync(dirname(join(outdir, file.path)), { recursive: true });
      writeFileSync(join(outdir, file.path), file.contents);
    }
    return { file: `${outdir}/${name}.mjs`, execArgv: [] };
  } catch {
    // A read-only install cannot hold the bundle: start the sources with the loader instead.
    return typeScriptEntry(source);
  }
}

/** The bundle kept from an earlier run if its sources are unchanged; else built now, and kept. */
async function keptOrBuilt(source: string, name: string, splitting: boolean): Promise<BundleFiles> {
  const options = {
    entryPoints: { [name]: source },
    // Relative to the project, whatever the sweep's working directory: the metafile's inputs are.
    absWorkingDir: PROJECT_ROOT,
    outdir: KEPT_OUTDIR,
    // Kept in memory, not written by esbuild: its service process would go on writing the files
    // after a sweep stopped mid-build (Ctrl-C, SIGTERM), into a directory with no record of the
    // run, which no later run would remove.
    write: false,
    metafile: true,
    bundle: true,
    splitting,
    external: EXTERNAL_PACKAGES,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
    banner: { js: "import { createRequire as __cellRequire } from 'node:module'; const require = __cellRequire(import.meta.url);" },
    outExtension: { '.js': '.mjs' },
  } satisfies BuildOptions;
  const settings = JSON.stringify({ esbuild: esbuildVersion, ...options });
  const keptDir = `${CACHE_DIR}kept-${name}`;
  const kept = readKeptBundle(keptDir, settings);
  if (kept) return kept;
  const { outputFiles, metafile } = await build(options);
  const files = outputFiles.map((file) => ({ path: relative(KEPT_OUTDIR, file.path), contents: file.contents }));
  // The lockfile too: it changes with the packages' versions, whose files esbuild reads.
  const inputs = [...Object.keys(metafile.inputs).map((input) => resolve(PROJECT_ROOT, input)), ...existing(join(PROJECT_ROOT, 'package-lock.json'))];
  keepBundle(keptDir, settings, inputs, files, `${CACHE_DIR}kept-${name}-staging-${process.pid}`);
  return files;
}

function existing(path: string): string[] {
  return existsSync(path) ? [path] : [];
}

/** A run killed with SIGKILL cannot remove its bundles; the next one does, by the record of the run in each. */
function removeBundlesOfDeadRuns(): void {
  for (const entry of readdirSync(CACHE_DIR)) {
    if (!BUNDLE_NAME.test(entry) || !madeByEndedRun(`${CACHE_DIR}${entry}`)) continue;
    rmSync(`${CACHE_DIR}${entry}`, { recursive: true, force: true });
  }
}
