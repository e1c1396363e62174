/**
 * What must happen however the sweep ends: cell processes killed, cgroups removed, namespaces'
 * processes ended, temporary files deleted. Node runs 'exit' listeners on a normal exit and on
 * process.exit, but a SIGINT, SIGTERM or SIGHUP kills it without them; so the first task
 * registered also installs signal handlers that run every task and then end the process by the
 * same signal, as its parent expects.
 */

const tasks = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const task of [...tasks]) {
    tasks.delete(task);
    try {
      task();
    } catch (error) {
      // On the way out: say what could not be cleaned, and go on with the rest.
      process.stderr.write(`fanout-tuner: cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Runs `task` when the process ends, unless the returned function is called first (the thing was cleaned up already). */
export function onExit(task: () => void): () => void {
  install();
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}
