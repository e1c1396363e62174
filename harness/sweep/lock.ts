import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { InputError } from '../errors.ts';
import { onExit } from '../run/on-exit.ts';
import { hasEnded, selfIdentity, type RunIdentity } from '../run/run-identity.ts';

/**
 * One sweep per results file: two sweeps on one --out would write each other's journal and
 * results, and neither could be resumed. The lock is a file beside the results, created only if
 * absent (O_EXCL), holding the pid and host of the sweep; it goes however the sweep ends (on-exit
 * covers exit, an exception and SIGINT/SIGTERM/SIGHUP). One left by a sweep killed with SIGKILL
 * is stale once that run has ended (its pid gone, or another process's now: the run's identity,
 * harness/run/run-identity.ts), and the next sweep takes it over.
 */

interface LockRecord extends RunIdentity {
  writtenBy: 'fanout-tuner';
  host: string;
  startedAt: string;
}

export function lockPath(outFile: string): string {
  return `${outFile}.lock`;
}

/** Takes the lock of `outFile` for this process, or refuses naming the sweep that holds it; returns its release. */
export function lockOutput(outFile: string): () => void {
  const file = lockPath(outFile);
  const record: LockRecord = { writtenBy: 'fanout-tuner', ...selfIdentity(), host: hostname(), startedAt: new Date().toISOString() };
  // Twice at most: a stale lock is moved aside once, then the lock is taken or another sweep has it.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (create(file, record)) {
      const release = () => removeIfOurs(file);
      const forget = onExit(release);
      return () => {
        forget();
        release();
      };
    }
    const holder = readLock(file);
    if (!holder) {
      // Gone meanwhile (its sweep ended): try again.
      if (holder === null) continue;
      throw new InputError({
        file,
        field: '--out',
        problem: 'exists and is not a lock of fanout-tuner; the sweep locks its results file with it and leaves files it did not write alone',
        fix: 'choose another --out, or move the file away',
      });
    }
    const state = runState(holder);
    if (state !== 'ended') {
      const where = holder.host === record.host ? '' : ` on ${holder.host}`;
      throw new InputError({
        file: outFile,
        field: '--out',
        problem: `another sweep is writing to it (pid ${holder.pid}${where}, started ${holder.startedAt}; lock ${file})`,
        fix:
          state === 'running'
            ? 'wait for that sweep to end, or choose another --out'
            : `wait for that sweep to end, or choose another --out; if no sweep runs${where} any more, delete ${file}`,
      });
    }
    takeOverStale(file, holder);
  }
  throw new InputError({
    file,
    field: '--out',
    problem: 'another sweep took the lock at the same moment',
    fix: 'wait for that sweep to end, or choose another --out',
  });
}

function create(file: string, record: LockRecord): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new InputError({
      file,
      field: '--out',
      problem: `cannot create the sweep's lock there (${code ?? String(error)})`,
      fix: 'choose a writable path with --out',
    });
  }
  try {
    writeSync(descriptor, `${JSON.stringify(record)}\n`);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

/**
 * The record in the lock file; null when there is no file any more, undefined when it is not a lock.
 * A lock is written in one write right after its creation: an empty file is one being written, so
 * it is read again for a moment before being called foreign.
 */
function readLock(file: string): LockRecord | null | undefined {
  for (let tries = 0; tries < 20; tries++) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return undefined;
    }
    if (text === '') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
      continue;
    }
    try {
      const record = JSON.parse(text) as Partial<LockRecord>;
      if (
        record.writtenBy === 'fanout-tuner' &&
        Number.isInteger(record.pid) &&
        typeof record.startTicks === 'string' &&
        typeof record.pidNamespace === 'string' &&
        typeof record.host === 'string' &&
        typeof record.startedAt === 'string'
      ) {
        return record as LockRecord;
      }
    } catch {
      // Not JSON: not a lock of this tool.
    }
    return undefined;
  }
  return undefined;
}

/**
 * Whether the lock's sweep still runs: 'ended' only when that is known; 'unknown' for a sweep of
 * another host or PID namespace, which cannot be checked from here and so counts as running.
 */
function runState(holder: LockRecord): 'running' | 'ended' | 'unknown' {
  if (holder.host !== hostname()) return 'unknown';
  const me = selfIdentity();
  if (hasEnded(holder, me)) return 'ended';
  if (holder.pidNamespace !== me.pidNamespace || holder.pidNamespace === 'unknown') {
    // No /proc to tell processes apart (not Linux): a pid that is gone is the best there is.
    if (process.platform !== 'linux' && !pidExists(holder.pid)) return 'ended';
    return 'unknown';
  }
  return 'running';
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Moves a stale lock aside under a name of this process's own, and deletes it only if it is still
 * the stale one read: had another sweep taken the lock over in between, its lock goes back.
 */
function takeOverStale(file: string, stale: LockRecord): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // Gone already: the next attempt creates it or finds who did.
  }
  const moved = readLock(aside);
  if (moved && moved.pid === stale.pid && moved.startTicks === stale.startTicks && moved.startedAt === stale.startedAt && moved.host === stale.host) {
    rmSync(aside, { force: true });
    return;
  }
  try {
    linkSync(aside, file);
  } catch {
    // A third sweep created a lock meanwhile; the one moved aside was live, and that one stands.
  }
  rmSync(aside, { force: true });
}

/** Removes the lock only while it is this process's own. */
function removeIfOurs(file: string): void {
  const holder = readLock(file);
  const me = selfIdentity();
  if (holder && holder.pid === me.pid && holder.startTicks === me.startTicks && holder.host === hostname()) rmSync(file, { force: true });
}
