import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { InputError } from '../errors.ts';
import { onExit } from '../run/on-exit.ts';

/**
 * One sweep per results file: two sweeps on one --out would write each other's journal and
 * results, and neither could be resumed. The lock is a file beside the results, created only if
 * absent (O_EXCL), holding the pid and host of the sweep; it goes however the sweep ends (on-exit
 * covers exit, an exception and SIGINT/SIGTERM/SIGHUP). One left by a sweep killed with SIGKILL
 * is stale once its pid is gone, and the next sweep takes it over.
 */

interface LockRecord {
  writtenBy: 'fanout-tuner';
  pid: number;
  host: string;
  startedAt: string;
}

export function lockPath(outFile: string): string {
  return `${outFile}.lock`;
}

/** Takes the lock of `outFile` for this process, or refuses naming the sweep that holds it; returns its release. */
export function lockOutput(outFile: string): () => void {
  const file = lockPath(outFile);
  const record: LockRecord = { writtenBy: 'fanout-tuner', pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
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
    if (isAlive(holder)) {
      throw new InputError({
        file: outFile,
        field: '--out',
        problem: `another sweep is writing to it (pid ${holder.pid}${holder.host === record.host ? '' : ` on ${holder.host}`}, started ${holder.startedAt}; lock ${file})`,
        fix: holder.host === record.host ? 'wait for that sweep to end, or choose another --out' : `choose another --out; if no sweep runs on ${holder.host} any more, delete ${file}`,
      });
    }
    takeOverStale(file, holder);
  }
  throw new InputError({ file, field: '--out', problem: 'another sweep took the lock at the same moment', fix: 'wait for that sweep to end, or choose another --out' });
}

function create(file: string, record: LockRecord): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new InputError({ file, field: '--out', problem: `cannot create the sweep's lock there (${code ?? String(error)})`, fix: 'choose a writable path with --out' });
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
      if (record.writtenBy === 'fanout-tuner' && Number.isInteger(record.pid) && typeof record.host === 'string' && typeof record.startedAt === 'string') {
        return record as LockRecord;
      }
    } catch {
      // Not JSON: not a lock of this tool.
    }
    return undefined;
  }
  return undefined;
}

/** Whether the lock's sweep may still run: a pid on another host cannot be checked from here, so it counts as running. */
function isAlive(holder: LockRecord): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
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
  if (moved && moved.pid === stale.pid && moved.startedAt === stale.startedAt && moved.host === stale.host) {
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
  if (holder && holder.pid === process.pid && holder.host === hostname()) rmSync(file, { force: true });
}
