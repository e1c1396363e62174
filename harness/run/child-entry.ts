import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * How to start a cell's process. The child's TypeScript and the packages it always needs (msw,
 * undici, htmlparser2) are bundled once per sweep into one ES module, so each cell starts plain
 * Node and reads one file instead of hundreds: ready in about 0.3 s here, against 0.7 s with the
 * packages left external and 1.4 s with the TypeScript loader; on a 54-cell grid that is most of a
 * minute. Packages a job may load later stay external and resolve from the project's
 * node_modules, which is why the bundle lives under it.
 */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

const EXTERNAL_PACKAGES = ['pg', 'pg-native', '@electric-sql/pglite', 'piscina', 'tsx'];
const SOURCE = fileURLToPath(new URL('./child.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/fanout-tuner/', import.meta.url));

let bundled: Promise<ChildEntry> | undefined;

/** The TypeScript loader is still needed when the child imports TypeScript at run time (a user's handler). */
export function typeScriptEntry(): ChildEntry {
  return { file: SOURCE, execArgv: ['--import', TSX] };
}

export function bundledEntry(): Promise<ChildEntry> {
  bundled ??= (async () => {
    const file = `${CACHE_DIR}child-${process.pid}.mjs`;
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      removeBundlesOfDeadSweeps();
      await build({
        entryPoints: [SOURCE],
        outfile: file,
        bundle: true,
        // Loaded only by some jobs, and with files of their own (PGlite's WebAssembly, piscina's
        // worker): they stay packages, resolved from node_modules when a job imports them.
        external: EXTERNAL_PACKAGES,
        platform: 'node',
        // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
        banner: { js: "import { createRequire as __cellRequire } from 'node:module'; const require = __cellRequire(import.meta.url);" },
        format: 'esm',
        target: 'node20',
        logLevel: 'silent',
      });
      process.once('exit', () => rmSync(file, { force: true }));
      return { file, execArgv: [] };
    } catch {
      // A read-only install cannot hold the bundle: start the sources with the loader instead.
      return typeScriptEntry();
    }
  })();
  return bundled;
}

/** A sweep killed with SIGKILL cannot remove its bundle; the next one does. */
function removeBundlesOfDeadSweeps(): void {
  for (const name of readdirSync(CACHE_DIR)) {
    const pid = Number(/^child-(\d+)\.mjs$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(`${CACHE_DIR}${name}`, { force: true });
    }
  }
}
