import { readFileSync } from 'node:fs';

/**
 * CPU time of this process's main thread (the event loop) alone, in ms, where Linux tells it
 * (/proc/self/task/<pid>/schedstat, nanoseconds). process.cpuUsage() also counts V8's helper
 * threads (concurrent GC), 10 to 30% more, which run beside the event loop when more than one
 * core is free. Undefined elsewhere.
 */
export function mainThreadCpuClock(): (() => number) | undefined {
  const file = `/proc/self/task/${process.pid}/schedstat`;
  const read = () => Number(readFileSync(file, 'utf8').split(' ', 1)[0]) / 1e6;
  try {
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}

/** Process CPU time (every thread), ms. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
