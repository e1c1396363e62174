import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process's descendants, ended with it. A cell's job may start processes of its own (a
 * handler's `child_process.spawn`, a runtime's helpers); without a cgroup to gather them, only
 * the parent links in /proc (Linux) say which they are, and killing the cell first would lose
 * them: an orphan moves to init. So the tree is stopped first (a stopped process cannot fork),
 * read again until no new process turns up, and only then killed. Elsewhere than Linux there
 * is no /proc: only the process itself is signalled.
 */

/** Rounds of stop-and-look before the kill: each finds the processes forked during the last. */
const MAX_ROUNDS = 20;

/** The parent of every process that can be read now. */
function parentLinks(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // The command name, in parentheses, may hold spaces: the fields after it are state, ppid, ...
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent);
    if (list) list.push(Number(entry));
    else children.set(parent, [Number(entry)]);
  }
  return children;
}

/** The descendants of `pid` (not `pid` itself), nearest first. */
export function descendantsOf(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const children = parentLinks();
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      if (found.includes(child) || child === pid) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Stops the descendants of `pid` until none new appears, then SIGKILLs them; returns those killed. */
export function killDescendants(pid: number): number[] {
  const stopped: number[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fresh = descendantsOf(pid).filter((child) => !stopped.includes(child));
    if (fresh.length === 0) break;
    for (const child of fresh) signal(child, 'SIGSTOP');
    stopped.push(...fresh);
  }
  for (const child of stopped) signal(child, 'SIGKILL');
  return stopped;
}

/** SIGKILLs `pid` and every process it started (and they started); never throws. */
export function killProcessTree(pid: number | undefined): void {
  if (pid === undefined) return;
  // The root is stopped too, so that it starts nothing more while its tree is read.
  signal(pid, 'SIGSTOP');
  killDescendants(pid);
  signal(pid, 'SIGKILL');
}
