import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * What the installed CLI imports must come with it: `npm install fanout-tuner` brings the
 * package's `dependencies`, never its `devDependencies`. A quick guard on every machine; CI also
 * packs, installs and runs the package (package-install.test.ts).
 */

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; files: string[] };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** The package a bare specifier names: "msw/node" is msw, "@mswjs/interceptors/fetch" is @mswjs/interceptors. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

describe('the package', () => {
  it('lists every package its CLI imports (statically or on demand) in dependencies', () => {
    const imported = new Map<string, string>();
    for (const file of ['bin', 'harness', 'scripts'].flatMap(sourceFiles)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n]*?from\s+'([^'.][^']*)'|\bimport\('([^'.][^']*)'\)/g)) {
        const specifier = match[1] ?? match[2]!;
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        imported.set(packageOf(specifier), file);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    const missing = [...imported].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing).toEqual([]);
  });

  it('packs the folders the CLI reads at run time, and no tests', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['bin/', 'harness/', 'scripts/', 'scenarios/', 'schema/']));
    expect(pkg.files.some((entry) => entry.startsWith('test'))).toBe(false);
  });
});
