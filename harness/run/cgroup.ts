import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onExit } from './on-exit.ts';

/**
 * CPU quotas through Linux control groups: the way a cell gets the CPU share Lambda would give
 * its memory size. Every group this module creates is removed: after its cell, at exit, on
 * Ctrl-C, and (for groups left by a sweep that was killed) at the next sweep's start.
 */

const PREFIX = 'fanout-tuner-';
const V1_ROOT = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';
const PERIOD_US = 10_000;
/** The kernel refuses a quota below 1 ms per period. */
const MIN_QUOTA_US = 1000;

/**
 * The period and quota (µs) that give `cpus` of CPU time. Short periods keep a throttled process
 * from running in long bursts; but below 1769/10 = 177 MB a 10 ms period would need a quota under
 * the kernel's 1 ms minimum, so there the period grows instead (13.8 ms at 128 MB), rather than the
 * quota rounding up to 1 ms and giving 128 MB 38% more CPU than its share.
 */
export function quotaFor(cpus: number): { periodUs: number; quotaUs: number } {
  const quotaUs = Math.round(cpus * PERIOD_US);
  if (quotaUs >= MIN_QUOTA_US) return { periodUs: PERIOD_US, quotaUs };
  return { periodUs: Math.round(MIN_QUOTA_US / cpus), quotaUs: MIN_QUOTA_US };
}

export interface CpuGroup {
  readonly path: string;
  /** CPUs the quota allows (1.5 = one and a half cores). */
  readonly cpus: number;
  attach(pid: number): void;
  remove(): void;
}

export interface CpuController {
  readonly kind: 'cgroup-v1' | 'cgroup-v2';
  create(cpus: number): CpuGroup;
}

const live = new Set<CpuGroup>();
let sequence = 0;
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  onExit(removeAllGroups);
}

/** Ends the cell processes still in our groups, then removes the groups; never throws, it runs on the way out. */
export function removeAllGroups(): void {
  for (const group of [...live]) {
    try {
      for (const pid of readFileSync(join(group.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // the group or its processes are already gone
    }
    try {
      group.remove();
    } catch (error) {
      process.stderr.write(`fanout-tuner: could not remove ${group.path}: ${(error as Error).message}\n`);
    }
  }
}

function removeDirectory(path: string): void {
  // A group can be removed only once its last process has left; that takes a moment after exit.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

function makeGroup(root: string, cpus: number, writeQuota: (dir: string) => void, procsFile: string): CpuGroup {
  installCleanup();
  const path = join(root, `${PREFIX}${process.pid}-${sequence++}`);
  mkdirSync(path);
  const group: CpuGroup = {
    path,
    cpus,
    attach(pid) {
      writeFileSync(join(path, procsFile), String(pid));
    },
    remove() {
      live.delete(group);
      removeDirectory(path);
    },
  };
  live.add(group);
  try {
    writeQuota(path);
  } catch (error) {
    group.remove();
    throw error;
  }
  return group;
}

const v1: CpuController = {
  kind: 'cgroup-v1',
  create(cpus) {
    return makeGroup(
      V1_ROOT,
      cpus,
      (dir) => {
        const { periodUs, quotaUs } = quotaFor(cpus);
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(periodUs));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
      },
      'cgroup.procs',
    );
  },
};

const v2: CpuController = {
  kind: 'cgroup-v2',
  create(cpus) {
    return makeGroup(
      V2_ROOT,
      cpus,
      (dir) => {
        const { periodUs, quotaUs } = quotaFor(cpus);
        writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${periodUs}`);
      },
      'cgroup.procs',
    );
  },
};

/** The writable CPU controller of this machine, or undefined (not Linux, not root, no cpu controller). */
export function detectCpuController(): CpuController | undefined {
  const candidates: CpuController[] = [];
  if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) candidates.push(v1);
  if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
    const controllers = readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8');
    if (/\bcpu\b/.test(controllers)) candidates.push(v2);
  }
  for (const controller of candidates) {
    try {
      controller.create(1).remove();
      return controller;
    } catch {
      // not writable here: try the next, or fall back to the model
    }
  }
  return undefined;
}

/** Removes groups left behind by sweeps that were killed before they could clean up. */
export function removeStaleGroups(): number {
  let removed = 0;
  for (const root of [V1_ROOT, V2_ROOT]) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of entries) {
      const match = new RegExp(`^${PREFIX}(\\d+)-\\d+$`).exec(name);
      if (!match || isAlive(Number(match[1]))) continue;
      try {
        removeDirectory(join(root, name));
        removed++;
      } catch {
        // still has processes: leave it
      }
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
