import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledEntry } from '../harness/run/cell-process-entry.ts';

/** The files a bundled module loads before it runs: itself and its static imports, transitively. */
function loadedAtStart(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, path] of text.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["'](\.\/[^"']+)["'];?$/gm)) loadedAtStart(join(dirname(file), path!), seen);
  return seen;
}

/** The packages whose code a bundle file holds: esbuild heads each module with a comment naming its path. */
function packagesIn(files: Iterable<string>): Set<string> {
  const packages = new Set<string>();
  for (const file of files) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) packages.add(name!);
  }
  return packages;
}

describe("the cell process's bundle", () => {
  it('loads at start none of the packages a fetch job on Lambda would not: undici, zod, @stdlib', async () => {
    const entry = await bundledEntry();
    const atStart = loadedAtStart(entry.file);
    const started = packagesIn(atStart);
    for (const name of ['undici', 'zod']) expect(started, `${name} is loaded before the job runs`).not.toContain(name);
    expect([...started].filter((name) => name.startsWith('@stdlib/'))).toEqual([]);
    // The undici package is there, for the jobs and backends that use it, in a chunk loaded on demand.
    const everyFile = readFileSync(entry.file, 'utf8').match(/["']\.\/[^"']+\.mjs["']/g) ?? [];
    expect(everyFile.length).toBeGreaterThan(0);
    const all = new Set([...atStart, ...everyFile.map((quoted) => join(dirname(entry.file), quoted.slice(1, -1)))]);
    const onDemand = [...all].flatMap((file) => [...loadedAtStart(file)]);
    expect(packagesIn(onDemand)).toContain('undici');
  });
});
