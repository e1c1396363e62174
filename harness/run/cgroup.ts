import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LAMBDA_PROCESSES, LAMBDA_THROTTLE_PERIOD_MS, quotaPeriod, REPLAY_THROTTLE_PERIOD_MS } from '../model/lambda.ts';
import { onExit } from './on-exit.ts';
import { hasEnded, selfIdentity, type RunIdentity } from './run-identity.ts';
import { killProcessTree } from './process-tree.ts';

/**
 * CPU quotas through Linux control groups: the way a cell gets the CPU share Lambda would give
 * its memory size. Every group this module creates is removed: after its cell, at exit, on
 * Ctrl-C, and (for groups left by a sweep that was killed) at the next sweep's start.
 */

const PREFIX = 'fanout-tuner-';
const V1_ROOT = '/sys/fs/cgroup/cpu';
const V1_MEMORY_ROOT = '/sys/fs/cgroup/memory';
const V1_CPUACCT_ROOT = '/sys/fs/cgroup/cpuacct';
const V1_PIDS_ROOT = '/sys/fs/cgroup/pids';
const V2_ROOT = '/sys/fs/cgroup';
/** Where groups are made, and so the only directories a run's record may name groups under. */
const ROOTS = [V1_ROOT, V1_MEMORY_ROOT, V1_CPUACCT_ROOT, V1_PIDS_ROOT, V2_ROOT];
const PERIOD_US = REPLAY_THROTTLE_PERIOD_MS * 1000;
/**
 * Real-time cells (time scale 1, and every deployed function) are throttled in Lambda's own
 * periods, so short bursts of CPU get through as they would on Lambda.
 */
export const LAMBDA_PERIOD_US = LAMBDA_THROTTLE_PERIOD_MS * 1000;

/** The period and quota (µs) that give `cpus` of CPU time: quotaPeriod's rule (harness/model/lambda.ts), in the kernel's units. */
export function quotaFor(cpus: number, periodUs: number = PERIOD_US): { periodUs: number; quotaUs: number } {
  const { periodMs, quotaMs } = quotaPeriod(cpus, periodUs / 1000);
  return { periodUs: Math.round(periodMs * 1000), quotaUs: Math.round(quotaMs * 1000) };
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
  /** A group with `cpus` of CPU time, throttled in periods of `periodUs` (default 10 ms). */
  create(cpus: number, periodUs?: number): CpuGroup;
}

/** Every group of ours still on disk: a CPU group, or one directory of a function's groups. */
const live = new Set<{ readonly path: string; remove(): void }>();
let sequence = 0;
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  onExit(removeAllGroups);
}

/** Ends the processes still in our groups and removes the groups; never throws, it runs on the way out. */
export function removeAllGroups(): void {
  for (const group of [...live]) {
    try {
      group.remove();
    } catch (error) {
      process.stderr.write(`fanout-tuner: could not remove ${group.path}: ${(error as Error).message}\n`);
    }
  }
}

/** How long a group's processes may take to die and leave it before its removal gives up. */
const REMOVE_WITHIN_MS = 3000;
const RETRY_EVERY_MS = 20;

/** The processes (and, under v1, the threads) of a group, as this process's PID namespace numbers them. */
function membersOf(path: string): number[] {
  const members = new Set<number>();
  for (const file of ['cgroup.procs', 'tasks']) {
    try {
      for (const line of readFileSync(join(path, file), 'utf8').split('\n')) if (line) members.add(Number(line));
    } catch {
      // v2 has no tasks file; or the group is gone
    }
  }
  return [...members];
}

function killMembers(path: string): void {
  // cgroup v2 (Linux 5.14+) kills the whole group at once, members of other PID namespaces too.
  try {
    writeFileSync(join(path, 'cgroup.kill'), '1');
  } catch {
    // v1, or an older kernel: one by one
  }
  // With the processes each started: a cell joins its CPU group only after its warm-up, so what
  // its job started before then is not in the group, and once the cell is dead nothing leads to it.
  for (const pid of membersOf(path)) killProcessTree(pid);
}

/**
 * Removes a group of ours. A group can be removed only once its last process has left: a job's
 * own child processes (a handler's `sleep`, a runtime's helpers) stay in it after the cell's
 * process has ended, and a killed process takes a moment to leave. So every member is killed,
 * again at each try, until the directory goes, for at most REMOVE_WITHIN_MS; then it throws, and
 * the group stays in the run's record for the next sweep to remove.
 */
function removeDirectory(path: string): void {
  const deadline = Date.now() + REMOVE_WITHIN_MS;
  for (;;) {
    killMembers(path);
    try {
      rmdirSync(path);
      forgetGroup(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        forgetGroup(path);
        return;
      }
      if (code !== 'EBUSY') throw error;
      if (Date.now() > deadline) {
        throw new Error(`processes ${membersOf(path).join(', ') || '(of another PID namespace)'} did not leave it within ${REMOVE_WITHIN_MS / 1000} s`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_EVERY_MS);
    }
  }
}

/**
 * The record of the groups a run made, so that the next run can tell a killed run's groups from
 * anything else under the same roots: a group is removed as stale only if it is listed in the
 * record of a run that has ended, never by its name alone (another tool, or a user, may name a
 * group alike). A run is identified by its pid, its start time (the pid of an ended run may be
 * another process's now) and its PID namespace (a pid names nothing across namespaces, so a run
 * in another namespace is never judged ended). One file per run, the header line first, then each
 * group's path as it is made; deleted once the run has removed all of them.
 */
export const STATE_DIR_VARIABLE = 'FANOUT_TUNER_STATE_DIR';
const DEFAULT_STATE_DIR = '/run/fanout-tuner';
const RECORD_NAME = /^cgroups-(\d+)-(\d+)\.txt$/;

function stateDir(): string {
  return process.env[STATE_DIR_VARIABLE] || DEFAULT_STATE_DIR;
}

/** This run's groups still on disk, as its record lists them. */
const recorded = new Set<string>();
let recordFile: string | undefined;
let recordWarned = false;

function recordGroup(path: string): void {
  const me = selfIdentity();
  try {
    if (!recordFile) {
      const dir = stateDir();
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      recordFile = join(dir, `cgroups-${me.pid}-${me.startTicks}.txt`);
      writeFileSync(recordFile, `${JSON.stringify(me)}\n`);
    }
    appendFileSync(recordFile, `${path}\n`);
    recorded.add(path);
  } catch (error) {
    // Removed at exit all the same; only a run killed with SIGKILL would leave it for good.
    if (!recordWarned)
      process.stderr.write(
        `fanout-tuner: could not record ${path} in ${stateDir()} (${(error as Error).message}): if this sweep is killed, remove it by hand\n`,
      );
    recordWarned = true;
  }
}

function forgetGroup(path: string): void {
  if (!recorded.delete(path) || recorded.size > 0 || !recordFile) return;
  try {
    unlinkSync(recordFile);
  } catch {
    // gone already
  }
  recordFile = undefined;
}

/** The next name for a group of this run: the tool's prefix, the run's pid and start time, a sequence number. */
function nextGroupName(): string {
  const me = selfIdentity();
  return `${PREFIX}${me.pid}-${me.startTicks}-${sequence++}`;
}

function makeGroup(root: string, cpus: number, writeQuota: (dir: string) => void, procsFile: string): CpuGroup {
  installCleanup();
  const path = join(root, nextGroupName());
  mkdirSync(path);
  recordGroup(path);
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
  create(cpus, period) {
    return makeGroup(
      V1_ROOT,
      cpus,
      (dir) => {
        const { periodUs, quotaUs } = quotaFor(cpus, period);
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(periodUs));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
      },
      'cgroup.procs',
    );
  },
};

const v2: CpuController = {
  kind: 'cgroup-v2',
  create(cpus, period) {
    return makeGroup(
      V2_ROOT,
      cpus,
      (dir) => {
        const { periodUs, quotaUs } = quotaFor(cpus, period);
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

/**
 * Removes the groups of runs that were killed before they could (with SIGKILL, or by a crash of
 * Node itself): only groups a run's record lists, and only of runs that have ended; processes
 * still in them (a cell that outlived its sweep) are killed. Returns how many were removed.
 */
export function removeStaleGroups(dir: string = stateDir()): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  const me = selfIdentity();
  for (const entry of entries) {
    if (!RECORD_NAME.test(entry)) continue;
    const file = join(dir, entry);
    let lines: string[];
    let run: RunIdentity;
    try {
      lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      run = JSON.parse(lines[0] ?? '') as RunIdentity;
    } catch {
      continue; // being written, or not a record of ours: left alone
    }
    if (!hasEnded(run, me)) continue;
    let left = 0;
    for (const path of lines.slice(1)) {
      // A line that is not a group of that run under one of our roots is no work of ours.
      const root = dirname(path);
      if (!ROOTS.includes(root) || !basename(path).startsWith(`${PREFIX}${run.pid}-${run.startTicks}-`) || !existsSync(path)) continue;
      try {
        removeDirectory(path);
        removed++;
      } catch {
        left++;
      }
    }
    if (left === 0) rmSync(file, { force: true });
  }
  return removed;
}

/**
 * A function's memory as Lambda limits it, for a process of any runtime: a memory cgroup whose
 * limit is the memory size (no swap, as Lambda has none), so that a function that needs more is
 * killed by the kernel's OOM killer, as Lambda's is; with the CPU quota of the size, and the
 * counters Lambda reports from: the peak memory of the process tree ("Max Memory Used"), its CPU
 * time, and whether the OOM killer struck.
 */
export interface FunctionGroupUsage {
  /** Peak memory charged to the group, bytes; undefined where the kernel keeps no peak (cgroup v2 before Linux 5.19). */
  peakMemoryBytes: number | undefined;
  /** CPU time of the group's processes, µs (user + system); undefined where no CPU accounting group could be made. */
  cpuUs: number | undefined;
  /** Processes the OOM killer ended in the group; undefined where the kernel does not count them (cgroup v1 before Linux 4.13). */
  oomKills: number | undefined;
  /**
   * Times the group's usage hit its limit (v1 memory.failcnt + memory.memsw.failcnt, v2
   * memory.events max); reclaim that succeeded counts too, and v1 with a memory+swap limit may
   * count nothing even as the OOM killer strikes: `oomKills` is the evidence, this the fallback.
   */
  limitHits: number;
  /** Processes and threads the group was refused for being at its `tasks` limit (pids.events max); undefined without one. */
  tasksRefused: number | undefined;
}

export interface FunctionGroup {
  readonly kind: 'cgroup-v1' | 'cgroup-v2';
  readonly memoryBytes: number;
  /** CPUs the quota allows, or undefined for no quota. */
  readonly cpus: number | undefined;
  /** How many processes and threads the group may hold at once, or undefined where no pids controller holds it. */
  readonly tasks: number | undefined;
  /** The group directories (one per v1 hierarchy; one under v2). */
  readonly paths: readonly string[];
  /** The cgroup.procs files a process is written to to join every group, e.g. before it execs. */
  readonly procsFiles: readonly string[];
  attach(pid: number): void;
  usage(): FunctionGroupUsage;
  /** Whether the OOM killer ended a process of the group (by its count, else by the limit having been hit). */
  outOfMemory(): boolean;
  remove(): void;
}

export interface FunctionGroupLimits {
  memoryMb: number;
  /** CPUs of the quota; no quota without it. */
  cpus?: number;
  /** Processes and threads at most (every thread counts, as in Lambda's quota); applied where a pids controller exists. */
  tasks?: number;
}

export interface FunctionGroupController {
  readonly kind: 'cgroup-v1' | 'cgroup-v2';
  /** Whether a group's `tasks` limit is applied here (a pids controller exists). */
  readonly holdsTasks: boolean;
  create(limits: FunctionGroupLimits): FunctionGroup;
}

/** Lambda's MB are MiB: 128 MB is 134,217,728 bytes. */
export function memoryLimitBytes(memoryMb: number): number {
  return memoryMb * 1024 * 1024;
}

function readNumber(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A `key value` line of a flat-keyed cgroup file (memory.oom_control, memory.events, cpu.stat). */
export function readKey(text: string, key: string): number | undefined {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

function readKeyOf(file: string, key: string): number | undefined {
  try {
    return readKey(readFileSync(file, 'utf8'), key);
  } catch {
    return undefined;
  }
}

function sameDirectory(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Makes a directory per root (skipping roots that are one hierarchy), tracked for clean-up, and
 * configures it (which returns the tasks limit it set); removes what it made if that fails.
 */
function makeFunctionGroup(
  kind: FunctionGroup['kind'],
  roots: string[],
  memoryBytes: number,
  cpus: number | undefined,
  configure: (dirs: string[]) => number | undefined,
  /** The counters, read from the group's directories; `tasks` is the limit configure set, if any. */
  usage: (dirs: string[], tasks: number | undefined) => FunctionGroupUsage,
): FunctionGroup {
  installCleanup();
  const name = nextGroupName();
  const dirs: string[] = [];
  const parts: { path: string; remove(): void }[] = [];
  let tasks: number | undefined;
  const remove = () => {
    let failure: unknown;
    for (const part of parts.splice(0).reverse()) {
      try {
        part.remove();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure) throw failure;
  };
  try {
    for (const root of roots) {
      if (roots.some((other, index) => index < roots.indexOf(root) && sameDirectory(other, root))) continue;
      const path = join(root, name);
      mkdirSync(path);
      recordGroup(path);
      const part = {
        path,
        remove() {
          live.delete(part);
          removeDirectory(path);
        },
      };
      live.add(part);
      parts.push(part);
      dirs.push(path);
    }
    tasks = configure(dirs);
  } catch (error) {
    remove();
    throw error;
  }
  const procsFiles = dirs.map((dir) => join(dir, 'cgroup.procs'));
  const group: FunctionGroup = {
    kind,
    memoryBytes,
    cpus,
    tasks,
    paths: dirs,
    procsFiles,
    attach(pid) {
      for (const file of procsFiles) writeFileSync(file, String(pid));
    },
    usage: () => usage(dirs, tasks),
    outOfMemory() {
      const { oomKills, limitHits } = usage(dirs, tasks);
      return oomKills === undefined ? limitHits > 0 : oomKills > 0;
    },
    remove,
  };
  return group;
}

/** Sets the group's limit on processes and threads where it has a pids.max and one is asked for; returns the limit set. */
function writeTasksLimit(dir: string | undefined, tasks: number | undefined): number | undefined {
  if (dir === undefined || tasks === undefined) return undefined;
  writeFileSync(join(dir, 'pids.max'), String(tasks));
  return tasks;
}

/** Forks and thread starts refused at the limit (the `max` line of pids.events, v1 and v2 alike). */
function tasksRefused(dir: string): number | undefined {
  return readKeyOf(join(dir, 'pids.events'), 'max');
}

const functionV1: Omit<FunctionGroupController, 'holdsTasks'> = {
  kind: 'cgroup-v1',
  create({ memoryMb, cpus, tasks }) {
    const memoryBytes = memoryLimitBytes(memoryMb);
    // memory first: usage() finds each counter by the directory's position.
    // CPU accounting where its hierarchy is mounted (alone, or with cpu as cpu,cpuacct); the pids
    // hierarchy where it is mounted and a limit is asked for.
    const roots = [
      V1_MEMORY_ROOT,
      ...(existsSync(V1_CPUACCT_ROOT) ? [V1_CPUACCT_ROOT] : []),
      ...(cpus === undefined ? [] : [V1_ROOT]),
      ...(tasks !== undefined && existsSync(join(V1_PIDS_ROOT, 'cgroup.procs')) ? [V1_PIDS_ROOT] : []),
    ];
    const find = (dirs: string[], file: string) => dirs.find((dir) => existsSync(join(dir, file)));
    return makeFunctionGroup(
      'cgroup-v1',
      roots,
      memoryBytes,
      cpus,
      (dirs) => {
        const memory = dirs[0]!;
        writeFileSync(join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
        // No swap, as in Lambda: memory+swap may not exceed memory (where swap accounting is on).
        if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
        if (existsSync(join(memory, 'memory.swappiness'))) {
          try {
            writeFileSync(join(memory, 'memory.swappiness'), '0');
          } catch {
            // refused under some hierarchies; the memsw limit already keeps the group off swap
          }
        }
        if (cpus !== undefined) {
          const cpu = find(dirs, 'cpu.cfs_quota_us')!;
          const { periodUs, quotaUs } = quotaFor(cpus, LAMBDA_PERIOD_US);
          writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(periodUs));
          writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(quotaUs));
        }
        return writeTasksLimit(find(dirs, 'pids.max'), tasks);
      },
      (dirs, tasks) => {
        const memory = dirs[0]!;
        const cpuacct = find(dirs, 'cpuacct.usage');
        const cpuNs = cpuacct ? readNumber(join(cpuacct, 'cpuacct.usage')) : undefined;
        return {
          peakMemoryBytes: readNumber(join(memory, 'memory.max_usage_in_bytes')),
          cpuUs: cpuNs === undefined ? undefined : Math.round(cpuNs / 1000),
          oomKills: readKeyOf(join(memory, 'memory.oom_control'), 'oom_kill'),
          // With swap accounting on, the memory+swap limit (set to the same size) is the one hit.
          limitHits: (readNumber(join(memory, 'memory.failcnt')) ?? 0) + (readNumber(join(memory, 'memory.memsw.failcnt')) ?? 0),
          tasksRefused: tasks === undefined ? undefined : tasksRefused(find(dirs, 'pids.max')!),
        };
      },
    );
  },
};

const functionV2: Omit<FunctionGroupController, 'holdsTasks'> = {
  kind: 'cgroup-v2',
  create({ memoryMb, cpus, tasks }) {
    const memoryBytes = memoryLimitBytes(memoryMb);
    return makeFunctionGroup(
      'cgroup-v2',
      [V2_ROOT],
      memoryBytes,
      cpus,
      ([dir]) => {
        writeFileSync(join(dir!, 'memory.max'), String(memoryBytes));
        if (existsSync(join(dir!, 'memory.swap.max'))) writeFileSync(join(dir!, 'memory.swap.max'), '0');
        // One OOM kill ends the whole process tree, as Lambda ends the whole environment.
        if (existsSync(join(dir!, 'memory.oom.group'))) writeFileSync(join(dir!, 'memory.oom.group'), '1');
        if (cpus !== undefined) {
          const { periodUs, quotaUs } = quotaFor(cpus, LAMBDA_PERIOD_US);
          writeFileSync(join(dir!, 'cpu.max'), `${quotaUs} ${periodUs}`);
        }
        return writeTasksLimit(existsSync(join(dir!, 'pids.max')) ? dir : undefined, tasks);
      },
      ([dir], tasks) => {
        const events = join(dir!, 'memory.events');
        return {
          peakMemoryBytes: readNumber(join(dir!, 'memory.peak')),
          cpuUs: readKeyOf(join(dir!, 'cpu.stat'), 'usage_usec'),
          oomKills: readKeyOf(events, 'oom_kill'),
          limitHits: readKeyOf(events, 'max') ?? 0,
          tasksRefused: tasks === undefined ? undefined : tasksRefused(dir!),
        };
      },
    );
  },
};

/** Enables the controllers for the root's children under cgroup v2, where they are not yet. */
function enableV2Controllers(names: string[]): void {
  try {
    const enabled = readFileSync(join(V2_ROOT, 'cgroup.subtree_control'), 'utf8');
    const missing = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(enabled));
    if (missing.length > 0) writeFileSync(join(V2_ROOT, 'cgroup.subtree_control'), missing.map((name) => `+${name}`).join(' '));
  } catch {
    // not ours to change here: creating the group will tell
  }
}

/**
 * The writable memory controller of this machine (with CPU accounting and quotas), or undefined
 * (not Linux, not root, no memory controller).
 */
export function detectFunctionGroupController(): FunctionGroupController | undefined {
  const candidates: Omit<FunctionGroupController, 'holdsTasks'>[] = [];
  if (existsSync(join(V1_MEMORY_ROOT, 'memory.limit_in_bytes'))) candidates.push(functionV1);
  if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
    const controllers = readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8');
    if (/\bmemory\b/.test(controllers)) {
      enableV2Controllers(['memory', 'cpu', 'pids']);
      candidates.push(functionV2);
    }
  }
  for (const controller of candidates) {
    try {
      const probe = controller.create({ memoryMb: 128, cpus: 1, tasks: LAMBDA_PROCESSES });
      probe.remove();
      return { ...controller, holdsTasks: probe.tasks !== undefined };
    } catch {
      // not writable here: try the next
    }
  }
  return undefined;
}
