import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasEnded, selfIdentity, type RunIdentity } from './run-identity.ts';

/**
 * The sweep's own temporary directories (a fence's hosts file, the certificates, a runtime's
 * socket), named `fanout-tuner-<kind>-<pid>-XXXXXX` and holding a record of the run that made
 * them (RUN_RECORD: its pid, start time and PID namespace), so that the next run can tell its own
 * leftovers from anything else's: a run killed with SIGKILL cannot remove what it made. Only a
 * directory of that name whose record names a run known to have ended is removed; not by
 * `kill(pid, 0)`, which cannot tell an ended run from a live one in another PID namespace.
 */

const cleaned = new Set<string>();

/** The record of the run that made a directory, inside it. */
export const RUN_RECORD = '.fanout-tuner-run.json';

/** Writes the record of this run into a directory it made. */
export function recordRun(dir: string): void {
  writeFileSync(join(dir, RUN_RECORD), JSON.stringify(selfIdentity()));
}

/** Whether a directory holds the record of a run of this tool that has ended (no record: never). */
export function madeByEndedRun(dir: string): boolean {
  let run: RunIdentity;
  try {
    run = JSON.parse(readFileSync(join(dir, RUN_RECORD), 'utf8')) as RunIdentity;
  } catch {
    return false;
  }
  if (typeof run?.pid !== 'number' || typeof run.startTicks !== 'string' || typeof run.pidNamespace !== 'string') return false;
  return hasEnded(run, selfIdentity());
}

/** Removes `kind` directories left by runs that are no longer alive; once per kind and process. */
export function removeDirsOfDeadRuns(kind: string, root: string = tmpdir()): number {
  const pattern = new RegExp(`^fanout-tuner-${kind}-(\\d+)-[A-Za-z0-9]{6}$`);
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!pattern.test(entry) || !madeByEndedRun(join(root, entry))) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** A fresh directory of this run; the first one of each kind also clears dead runs' leftovers. */
export function makeTempDir(kind: string, root: string = tmpdir()): string {
  const key = `${root}:${kind}`;
  if (!cleaned.has(key)) {
    cleaned.add(key);
    removeDirsOfDeadRuns(kind, root);
  }
  const dir = mkdtempSync(join(root, `fanout-tuner-${kind}-${process.pid}-`));
  recordRun(dir);
  return dir;
}
