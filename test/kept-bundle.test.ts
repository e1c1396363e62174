import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepBundle, readKeptBundle } from '../harness/run/kept-bundle.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * A child's bundle is kept between runs and used again while every file it was built from is
 * unchanged; each run still gets its own copy.
 */

const CACHE = resolve('node_modules/.cache/fanout-tuner');
const NAME = 'kept-probe';
afterEach(() => rmSync(join(CACHE, `kept-${NAME}`), { recursive: true, force: true }));

const text = (files: ReturnType<typeof readKeptBundle>) => files?.map((file) => [file.path, Buffer.from(file.contents).toString()]);

describe('a kept bundle', () => {
  it('is read back while its settings and the content of every input are as they were, and not once one changes', () => {
    const dir = scratchDir('kept');
    const inputs = [join(dir, 'a.ts'), join(dir, 'b.ts')];
    for (const input of inputs) writeFileSync(input, `export const name = '${input}';\n`);
    const kept = join(dir, 'kept');
    const staging = join(dir, 'kept-staging-1');
    keepBundle(
      kept,
      'settings',
      inputs,
      [
        { path: 'entry.mjs', contents: Buffer.from('bundle one') },
        { path: 'chunks/a.mjs', contents: Buffer.from('chunk') },
      ],
      staging,
    );
    expect(existsSync(staging)).toBe(false);
    expect(text(readKeptBundle(kept, 'settings'))).toEqual([
      ['entry.mjs', 'bundle one'],
      ['chunks/a.mjs', 'chunk'],
    ]);
    expect(readKeptBundle(kept, 'other settings')).toBeUndefined();

    // Touched, its content as it was: still the same bundle. Then the same size, another content.
    const { mtime } = statSync(inputs[1]!);
    utimesSync(inputs[1]!, mtime, new Date(mtime.getTime() + 2000));
    expect(text(readKeptBundle(kept, 'settings'))).toHaveLength(2);
    writeFileSync(inputs[1]!, readFileSync(inputs[1]!, 'utf8').replace('b.ts', 'c.ts'));
    expect(readKeptBundle(kept, 'settings')).toBeUndefined();

    // Kept again, over the old one; then an input grows, or goes.
    keepBundle(kept, 'settings', inputs, [{ path: 'entry.mjs', contents: Buffer.from('bundle two') }], staging);
    expect(text(readKeptBundle(kept, 'settings'))).toEqual([['entry.mjs', 'bundle two']]);
    writeFileSync(inputs[0]!, 'export const name = "longer than before";\n');
    expect(readKeptBundle(kept, 'settings')).toBeUndefined();
    rmSync(inputs[0]!);
    expect(readKeptBundle(kept, 'settings')).toBeUndefined();
  });

  it('serves the next run without building, and is built again when a source changes', () => {
    const dir = scratchDir('kept-source');
    const source = join(dir, 'source.ts');
    const imported = join(dir, 'imported.ts');
    writeFileSync(source, "import { marker } from './imported.ts';\nconsole.log(marker);\n");
    writeFileSync(imported, "export const marker = 'first version';\n");
    const bundled = () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/bundle-source.ts', source, NAME], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      return run.stdout;
    };
    const manifest = join(CACHE, `kept-${NAME}`, 'manifest.json');

    expect(bundled()).toContain('first version');
    const built = statSync(manifest).mtimeMs;
    expect(bundled()).toContain('first version');
    expect(statSync(manifest).mtimeMs).toBe(built);

    writeFileSync(imported, "export const marker = 'second version';\n");
    const rebuilt = bundled();
    expect(rebuilt).toContain('second version');
    expect(rebuilt).not.toContain('first version');
    expect(readFileSync(manifest, 'utf8')).toContain(imported);
    // Each run's own copy went with it.
    expect(readdirSync(CACHE).filter((entry) => entry.startsWith(`${NAME}-`))).toEqual([]);
  });
});
