import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Which process a run of this tool was, so that what it left behind (a cgroup record, a results
 * file's lock) can be told apart from what a live run holds: its pid, its start time (the pid of
 * an ended run may be another process's now, or this one's in a new container) and its PID
 * namespace (a pid names nothing across namespaces, so a run in another is never judged ended).
 */
export interface RunIdentity {
  pid: number;
  startTicks: string;
  pidNamespace: string;
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined if there is no such process. */
function startTicksOf(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidNamespaceOf(pid: number | 'self'): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return 'unknown';
  }
}

function procIsOurs(): boolean {
  try {
    return readlinkSync('/proc/self') === String(process.pid);
  } catch {
    return false;
  }
}

let self: RunIdentity | undefined;
export function selfIdentity(): RunIdentity {
  self ??= { pid: process.pid, startTicks: startTicksOf('self') ?? '0', pidNamespace: pidNamespaceOf('self') };
  return self;
}

/** Whether a run is known to have ended: one of this PID namespace whose pid is gone or is another process now. */
export function hasEnded(run: RunIdentity, me: RunIdentity): boolean {
  if (run.pidNamespace !== me.pidNamespace || run.pidNamespace === 'unknown') return false;
  // A /proc mounted for another PID namespace (unshare --pid without --mount-proc) describes other processes.
  if (!procIsOurs()) return false;
  if (run.pid === me.pid && run.startTicks === me.startTicks) return false;
  return startTicksOf(run.pid) !== run.startTicks;
}
