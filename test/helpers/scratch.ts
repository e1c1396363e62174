import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary directories for tests, removed after the test file that made them. A test file runs
 * in a process of its own and imports this module afresh while vitest collects it, so the hook
 * below belongs to that file and runs once its last test is done (pass or fail). A run killed
 * outright leaves its directories behind; their `fanout-test-` prefix tells whose they are.
 */

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory `fanout-test-<purpose>-XXXXXX` under the system's temp directory. */
export function scratchDir(purpose: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fanout-test-${purpose}-`));
  made.push(dir);
  return dir;
}
