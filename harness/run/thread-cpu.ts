import { openSync, readSync } from 'node:fs';

/**
 * CPU time of this process's main thread (the event loop) alone, in ms, where Linux tells it
 * (/proc/self/task/<pid>/schedstat, nanoseconds). process.cpuUsage() also counts V8's helper
 * threads (concurrent GC), 10 to 30% more, which run beside the event loop when more than one
 * core is free. Undefined elsewhere. The file is opened once and read again from its start: a
 * job holding all the file descriptors its quota allows (Lambda's 1,024) must not make the
 * harness's own measurement fail.
 */
export function mainThreadCpuClock(): (() => number) | undefined {
  const buffer = Buffer.alloc(128);
  try {
    const fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
    const read = () => Number(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).split(' ', 1)[0]) / 1e6;
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
