import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { recordRun } from './temp-dirs.ts';

/**
 * A child's bundle kept between runs: building one takes esbuild 0.2 to 0.3 s, and a sweep
 * builds one or two (the cell's, the fence host's) before its first cell, every run, though the
 * sources rarely change between runs and never in an installed package. Each run still gets its
 * own copy (cell-process-entry.ts), so replacing the kept one never touches a running sweep's.
 *
 * A kept bundle is used only if it was built with the same settings and every file esbuild read
 * for it (and the lockfile, which names the packages' versions) still has the content it had
 * then: a digest of them all, about 4 MB read in 20 ms here, where an edit within the same second
 * could leave a modification time as it was. Otherwise the bundle is built again and kept in its
 * place.
 */

/** A bundle's output files, by path relative to its directory. */
export type BundleFiles = ReadonlyArray<{ path: string; contents: Uint8Array }>;

interface KeptManifest {
  /** The build's settings (esbuild's version, the entry, its options): a bundle of other settings is not this one. */
  settings: string;
  /** Every file the bundle was built from, absolute. */
  inputs: string[];
  /** SHA-1 over each input's path and content, in order. */
  digest: string;
  files: string[];
}

const MANIFEST = 'manifest.json';

/** Throws if an input cannot be read (it is gone): the bundle is then built again. */
function digestOf(inputs: readonly string[]): string {
  const hash = createHash('sha1');
  for (const input of inputs) hash.update(input).update('\0').update(readFileSync(input)).update('\0');
  return hash.digest('hex');
}

/** The kept bundle in `dir` if it is still what building with `settings` would give; undefined otherwise. */
export function readKeptBundle(dir: string, settings: string): BundleFiles | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as KeptManifest;
    if (manifest.settings !== settings || digestOf(manifest.inputs) !== manifest.digest) return undefined;
    return manifest.files.map((path) => ({ path, contents: readFileSync(join(dir, path)) }));
  } catch {
    // none kept, or being replaced by another run, or not readable: build it
    return undefined;
  }
}

/**
 * Keeps a bundle in `dir`, replacing what was there: written in full beside it first, with this
 * run's record (so that the next run removes it if this one is killed meanwhile), then renamed
 * into place. `inputs` are absolute paths. Never throws: a bundle that cannot be kept (a
 * read-only install) is built again next time.
 */
export function keepBundle(dir: string, settings: string, inputs: readonly string[], files: BundleFiles, staging: string): void {
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    recordRun(staging);
    for (const file of files) {
      mkdirSync(dirname(join(staging, file.path)), { recursive: true });
      writeFileSync(join(staging, file.path), file.contents);
    }
    const manifest: KeptManifest = { settings, inputs: [...inputs], digest: digestOf(inputs), files: files.map((file) => file.path) };
    writeFileSync(join(staging, MANIFEST), JSON.stringify(manifest));
    // The record stays in the kept directory, whose name no clean-up of ended runs matches.
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
}
