import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary directories for tests, removed after the test file that made them, pass or fail:
 * test/helpers/scratch-cleanup.ts, a setup file of both vitest configs, runs
 * `removeScratchDirs` after every test file. Through a setup file rather than a hook registered
 * when this module loads, because `npm run test:unit` shares modules between test files
 * (isolate: false) and would load it once for several files. A run killed outright leaves its
 * directories behind; their `fanout-test-` prefix tells whose they are.
 */

const made: string[] = [];

/** A fresh directory `fanout-test-<purpose>-XXXXXX` under the system's temp directory. */
export function scratchDir(purpose: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fanout-test-${purpose}-`));
  made.push(dir);
  return dir;
}

/** Removes, with their contents, the directories scratchDir made since the last call. */
export function removeScratchDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
