import { fork, type ChildProcess } from 'node:child_process';
import { bundledEntry, typeScriptEntry } from './child-entry.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';

/** How a cell's process is confined, decided by the sweep from the memory size. */
export interface CellLimits {
  /** V8 old-space limit, so a job that needs more memory than the Lambda size fails as `oom`. */
  heapMb?: number;
  /** Puts the process under its CPU quota once it is prepared, before the first invocation. */
  confine?: (pid: number) => void;
}

export type CellRun =
  | { state: 'completed'; reps: RepMeasurement[] }
  | { state: 'errored' | 'oom' | 'timeout'; reps: RepMeasurement[]; error: string };

/** Process start, module loading and the warm-up come on top of the invocations themselves. */
const STARTUP_ALLOWANCE_MS = 60_000;
const STDERR_TAIL_BYTES = 4096;

/** Cell processes still running; killed if the sweep itself exits, so none outlives it. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Runs one cell in a fresh Node process and reports each repetition as it arrives. */
export async function runCell(job: CellJob, limits: CellLimits = {}, onRep?: (rep: RepMeasurement) => void): Promise<CellRun> {
  // A user's handler may be TypeScript, imported at run time: that needs the loader.
  const entry = job.scenario.workload ? typeScriptEntry() : await bundledEntry();
  const execArgv = [...entry.execArgv];
  if (limits.heapMb) execArgv.push(`--max-old-space-size=${limits.heapMb}`);
  // A handler's console.log goes nowhere, as a Lambda's goes to its logs rather than the caller;
  // it would tear the sweep's progress lines. stderr is kept for the cause of a crash.
  const child = fork(entry.file, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });

  liveChildren.add(child);
  const reps: RepMeasurement[] = [];
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });

  return new Promise<CellRun>((resolve) => {
    let outcome: CellRun | undefined;
    const settle = (run: CellRun) => {
      outcome ??= run;
    };
    const budgetMs = (job.invocationTimeoutMs / job.timeScale) * (job.reps + job.warmupInvocations) + STARTUP_ALLOWANCE_MS;
    const watchdog = setTimeout(() => {
      settle({ state: 'timeout', reps, error: `the cell did not finish within ${Math.round(budgetMs / 1000)} s` });
      child.kill('SIGKILL');
    }, budgetMs);

    child.on('message', (message: ChildMessage) => {
      switch (message.type) {
        case 'ready':
          child.send({ type: 'run', job } satisfies ParentMessage);
          break;
        case 'prepared':
          try {
            limits.confine?.(child.pid!);
          } catch (error) {
            settle({ state: 'errored', reps, error: `could not confine the cell: ${(error as Error).message}` });
            child.kill('SIGKILL');
            return;
          }
          child.send({ type: 'start' } satisfies ParentMessage);
          break;
        case 'rep':
          reps.push(message.rep);
          onRep?.(message.rep);
          break;
        case 'timeout':
          settle({
            state: 'timeout',
            reps,
            error: `an invocation ran longer than the function timeout (${job.invocationTimeoutMs / 1000} s)`,
          });
          break;
        case 'failed':
          settle({ state: 'errored', reps, error: message.error });
          break;
        case 'done':
          settle({ state: 'completed', reps });
          break;
      }
    });

    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      clearTimeout(watchdog);
      if (!outcome) {
        if (isOutOfMemory(stderrTail)) {
          settle({ state: 'oom', reps, error: `the job ran out of memory (heap limit ${limits.heapMb ?? 'default'} MB)` });
        } else {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          settle({ state: 'errored', reps, error: `the cell process ${how}: ${lastLine(stderrTail)}` });
        }
      }
      resolve(outcome!);
    });
  });
}

export function isOutOfMemory(stderr: string): boolean {
  return /heap out of memory|Reached heap limit|Allocation failed/i.test(stderr);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() && !line.startsWith('    at '));
  return lines.at(-1) ?? 'no error output';
}
