/** Lambda's CPU allocation: 1,769 MB buys one vCPU, proportionally, up to 6 vCPUs at 10,240 MB. */
export function cpuShare(memoryMb: number): number {
  return Math.min(6, memoryMb / 1769);
}

/** A single-threaded event loop cannot use more than one core however much memory it has. */
export function singleThreadShare(memoryMb: number): number {
  return Math.min(1, memoryMb / 1769);
}

/** Heap limit that leaves room for the runtime's non-heap memory (code, buffers, stacks). */
export function heapLimitMb(memoryMb: number): number {
  return Math.max(64, memoryMb - 40);
}
