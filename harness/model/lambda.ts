/**
 * What a Lambda memory size buys in CPU and heap, and a first-order projection of duration from
 * one CPU share to another. Pure functions: no clock, no environment.
 */

/** Lambda gives one full vCPU at 1,769 MB and scales CPU linearly with memory. */
export const MB_PER_VCPU = 1769;
/** 10,240 MB, the largest size, gets 6 vCPUs. */
export const MAX_VCPUS = 6;
export const MIN_MEMORY_MB = 128;
/**
 * Lambda throttles CPU in periods of about 20 ms (docs/method.md, Memory sizes as real constraints): at
 * 128 MB a spinning function runs about 1.4 ms, then is paused for the rest of each period. The
 * simulator throttles production and real-time replays so (harness/model/cpu-throttle.ts), and
 * real-time cells run under a cgroup quota with this period.
 */
export const LAMBDA_THROTTLE_PERIOD_MS = 20;
/** A time-scaled cell's quota period, real ms: shorter than Lambda's, so a throttled process never runs in long bursts. */
export const REPLAY_THROTTLE_PERIOD_MS = 10;
/** The kernel refuses a CFS quota below 1 ms per period. */
const MIN_QUOTA_MS = 1;

/**
 * The period and quota (real ms) a cell's CPU quota of `cpus` cores gets. Below 1769/10 = 177 MB a
 * 10 ms period would need a quota under the kernel's 1 ms minimum, so there the period grows
 * instead (13.8 ms at 128 MB), rather than the quota rounding up to 1 ms and giving 128 MB 38%
 * more CPU than its share. The cgroup code applies it; the simulator throttles a replay with it.
 */
export function quotaPeriod(cpus: number, periodMs: number = REPLAY_THROTTLE_PERIOD_MS): { periodMs: number; quotaMs: number } {
  requirePositive('cpus', cpus);
  const quotaMs = cpus * periodMs;
  if (quotaMs >= MIN_QUOTA_MS) return { periodMs, quotaMs };
  return { periodMs: MIN_QUOTA_MS / cpus, quotaMs: MIN_QUOTA_MS };
}
export const MAX_MEMORY_MB = 10_240;

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
}

/**
 * vCPUs a function of this size gets, across all its threads. The linear rule gives 5.79 vCPUs at
 * 10,240 MB where AWS quotes 6; we keep the linear rule (it understates the largest sizes a little)
 * and cap it at 6 so no size is ever credited with more than AWS provides.
 */
export function cpuShare(memoryMb: number): number {
  requirePositive('memoryMb', memoryMb);
  return Math.min(MAX_VCPUS, memoryMb / MB_PER_VCPU);
}

/**
 * Share of one core a single thread gets: below 1,769 MB a thread is throttled to memory/1769 of a
 * core; above it, extra vCPUs do not make one thread faster. A Node event loop is one thread, so
 * this is the share that matters for the job's parse and client overhead.
 */
export function singleThreadShare(memoryMb: number): number {
  requirePositive('memoryMb', memoryMb);
  return Math.min(1, memoryMb / MB_PER_VCPU);
}

/**
 * File descriptors an execution environment may hold at once, a quota Lambda does not raise
 * (docs/method.md, Memory sizes as real constraints): every socket, file and pipe of the function's
 * processes counts, so a job that keeps more connections open at once fails with EMFILE.
 */
export const LAMBDA_FILE_DESCRIPTORS = 1024;

/**
 * Processes and threads an execution environment may run at once, the other quota Lambda does
 * not raise: every thread counts, so a Python job whose thread pool would pass it fails to start
 * a thread ("can't start new thread").
 */
export const LAMBDA_PROCESSES = 1024;

/** The V8 heap of a Node.js process, in MB as V8's flags take them. */
export interface NodeHeap {
  /** `--max-semi-space-size`: each of the young generation's two semi-spaces. */
  semiSpaceMb: number;
  /** `--max-old-space-size`. */
  oldSpaceMb: number;
}

/**
 * The heap Lambda's Node.js runtime gives a function of `memoryMb`, as its bootstrap script sets
 * it (docs/method.md, Memory sizes as real constraints): a tenth of the memory for the young
 * generation, two semi-spaces of half of that, and the rest for the old space; 6 and 116 MB at
 * 128 MB. V8 sizes its collections by these limits, so a process without them lets garbage grow
 * to hundreds of MB where the same job on Lambda collects it. Lambda kills the function when its
 * whole RSS passes the memory size, which the heap alone does not bound: the analysis also marks a
 * cell infeasible when its peak RSS reaches the memory size.
 */
export function lambdaNodeHeap(memoryMb: number): NodeHeap {
  requirePositive('memoryMb', memoryMb);
  const whole = Math.floor(memoryMb);
  const youngMb = Math.floor(whole / 10);
  return { semiSpaceMb: Math.floor(youngMb / 2), oldSpaceMb: whole - youngMb };
}

/** The V8 flags that give a Node process `heap`. */
function nodeHeapArgs(heap: NodeHeap): string[] {
  return [`--max-semi-space-size=${heap.semiSpaceMb}`, `--max-old-space-size=${heap.oldSpaceMb}`];
}

/**
 * Every flag Lambda's Node.js runtime starts Node with, by its bootstrap script: `gc()` exposed,
 * HTTP headers up to 80 KB, and the heap of the memory size. A deployed function runs with them.
 */
export function lambdaNodeArgs(memoryMb: number): string[] {
  return ['--expose-gc', '--max-http-header-size=81920', ...nodeHeapArgs(lambdaNodeHeap(memoryMb))];
}

export interface DurationProjection {
  /** Wall time measured at `fromShare`. */
  measuredWallMs: number;
  /** CPU time of the same run (user + system). */
  measuredCpuMs: number;
  /** CPU share (cores) the measurement ran with. */
  fromShare: number;
  /** CPU share to project to. */
  toShare: number;
}

/**
 * First-order projection: the time spent waiting on I/O does not depend on the CPU share, the
 * CPU time stretches by fromShare/toShare. I/O time is wall minus CPU, floored at 0 because a
 * multi-threaded run can use more CPU time than wall time. It ignores the overlap of CPU and I/O,
 * so it overstates the slowdown of a job whose CPU work hides behind slow responses.
 */
export function projectDurationMs(projection: DurationProjection): number {
  const { measuredWallMs, measuredCpuMs, fromShare, toShare } = projection;
  if (!Number.isFinite(measuredWallMs) || measuredWallMs < 0) throw new RangeError(`measuredWallMs must be >= 0, got ${measuredWallMs}`);
  if (!Number.isFinite(measuredCpuMs) || measuredCpuMs < 0) throw new RangeError(`measuredCpuMs must be >= 0, got ${measuredCpuMs}`);
  requirePositive('fromShare', fromShare);
  requirePositive('toShare', toShare);
  const ioMs = Math.max(0, measuredWallMs - measuredCpuMs);
  return ioMs + measuredCpuMs * (fromShare / toShare);
}
