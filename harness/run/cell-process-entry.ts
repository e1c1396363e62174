import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { madeByEndedRun, recordRun } from './temp-dirs.ts';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { onExit } from './on-exit.ts';

/**
 * How to start a child process whose code is TypeScript: the cell process, and the benchmark's
 * overhead process. Each entry and the packages it always needs (msw, undici, htmlparser2) are
 * bundled once per run into ES modules, so a child starts plain Node and reads one file instead of
 * hundreds: ready in about 0.3 s here, against 0.7 s with the packages left external and 1.4 s
 * with the TypeScript loader, which also adds about 38 MB of memory to every child. Packages a
 * job may load later stay external and resolve from the project's node_modules, which is why the
 * bundles live under it.
 */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

/** Loaded only by some jobs, and with files of their own (PGlite's WebAssembly, piscina's worker). */
const EXTERNAL_PACKAGES = ['pg', 'pg-native', '@electric-sql/pglite', 'piscina', 'tsx'];
const TSX = import.meta.resolve('tsx');
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/fanout-tuner/', import.meta.url));
const BUNDLE_NAME = /^(?:[a-z-]+-)?(\d+)(?:\.mjs)?$/;

const CELL_SOURCE = fileURLToPath(new URL('./cell-process.ts', import.meta.url));
const bundles = new Map<string, Promise<ChildEntry>>();

/** The TypeScript loader is still needed when the child imports TypeScript at run time (a user's handler). */
export function typeScriptEntry(source: string = CELL_SOURCE): ChildEntry {
  return { file: source, execArgv: ['--import', TSX] };
}

/** The cell process, bundled. */
export function bundledEntry(): Promise<ChildEntry> {
  return bundleEntry(CELL_SOURCE, 'child');
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
    // Kept in memory, not written by esbuild: its service process would go on writing the files
    // after a sweep stopped mid-build (Ctrl-C, SIGTERM), into a directory with no record of the
    // run, which no later run would remove.
    const { outputFiles } = await build({
      entryPoints: { [name]: source },
      outdir,
      write: false,
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
    });
    // The directory, its record and its removal at exit come first, all before the next await:
    // however the run ends from here, the directory goes with it or the next run removes it.
    mkdirSync(outdir, { recursive: true });
    recordRun(outdir);
    // On a signal too (Ctrl-C, SIGTERM), where Node runs no 'exit' listener: onExit covers both.
    onExit(() => rmSync(outdir, { recursive: true, force: true }));
    for (const file of outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.contents);
    }
    return { file: `${outdir}/${name}.mjs`, execArgv: [] };
  } catch {
    // A read-only install cannot hold the bundle: start the sources with the loader instead.
    return typeScriptEntry(source);
  }
}

/** A run killed with SIGKILL cannot remove its bundles; the next one does, by the record of the run in each. */
function removeBundlesOfDeadRuns(): void {
  for (const entry of readdirSync(CACHE_DIR)) {
    if (!BUNDLE_NAME.test(entry) || !madeByEndedRun(`${CACHE_DIR}${entry}`)) continue;
    rmSync(`${CACHE_DIR}${entry}`, { recursive: true, force: true });
  }
}
