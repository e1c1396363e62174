import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The sweep's own temporary directories (a fence's hosts file, the certificates, a runtime's
 * socket), named `fanout-tuner-<kind>-<pid>-XXXXXX` so that the next run can tell its own
 * leftovers from anything else's: a run killed with SIGKILL cannot remove what it made, and only
 * directories of that name whose process is gone are removed.
 */

const cleaned = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    const pid = Number(pattern.exec(entry)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
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
  return mkdtempSync(join(root, `fanout-tuner-${kind}-${process.pid}-`));
}
