import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The process's peak resident memory since the last reset, MB. Linux keeps it as VmHWM and lets
 * a process reset it (clear_refs 5), so each cell measured in one process gets its own peak;
 * elsewhere it is the peak of the whole process (getrusage).
 */
export function peakRssMb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Starts a new peak at the current resident memory, where the platform allows it. */
export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or a kernel without it: the peak stays the process's.
  }
}
