import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import type { Fence } from '../isolate/fence.ts';
import type { PlannedRequest } from '../scenario/plan.ts';
import { onExit } from './on-exit.ts';
import { bundledEntry, typeScriptEntry } from './child-entry.ts';
import { killProcessTree } from './process-tree.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';

/** How a cell's process is confined, decided by the sweep from the memory size. */
export interface CellLimits {
  /** V8 old-space limit, so a job that needs more memory than the Lambda size fails as `oom`. */
  heapMb?: number;
  /** Puts the process under its CPU quota once it is prepared, before the first invocation. */
  confine?: (pid: number) => void;
}

export type CellRun =
  | {
      state: 'completed';
      reps: RepMeasurement[];
      /** The requests a deployed function made in its warm-up, in its order: its ideal and its simulation use them. */
      requests?: PlannedRequest[];
    }
  | { state: 'errored' | 'oom' | 'timeout'; reps: RepMeasurement[]; error: string };

/**
 * A cell process: started, prepared and warmed up once, then measuring one cell after another
 * (all of one memory size: one heap limit, one CPU quota), as a warm Lambda container serves one
 * invocation after another. A cell that fails ends the process; `open` then turns false.
 */
export interface CellSession {
  /** `reps` timed invocations at `concurrency` (default: the job's reps). */
  measure(concurrency: number, onRep?: (rep: RepMeasurement) => void, reps?: number): Promise<CellRun>;
  /** Lets the process close its sink and exit; kills it if it does not within a few seconds. */
  close(): Promise<void>;
  readonly open: boolean;
}

/** Process start, module loading and the warm-up come on top of the invocations themselves. */
const STARTUP_ALLOWANCE_MS = 60_000;
const CLOSE_ALLOWANCE_MS = 10_000;
const STDERR_TAIL_BYTES = 4096;

/** Where a cell's process runs: inside a fence (its own network namespace), with these extra variables. */
export interface CellPlace {
  fence?: Fence;
  env?: Record<string, string>;
}

interface Measurement {
  reps: RepMeasurement[];
  onRep: ((rep: RepMeasurement) => void) | undefined;
  outcome: CellRun | undefined;
  resolve: (run: CellRun) => void;
}

/** Starts a cell process; it prepares and warms up at once, and is confined before its first cell. */
export async function openCellSession(job: CellJob, limits: CellLimits = {}, place: CellPlace = {}): Promise<CellSession> {
  // A user's handler may be TypeScript, imported at run time: that needs the loader.
  const entry = job.scenario.workload ? typeScriptEntry() : await bundledEntry();
  const execArgv = [...entry.execArgv];
  if (limits.heapMb) execArgv.push(`--max-old-space-size=${limits.heapMb}`);
  // A handler's console.log goes nowhere, as a Lambda's goes to its logs rather than the caller;
  // it would tear the sweep's progress lines. stderr is kept for the cause of a crash.
  const options: ForkOptions = {
    execArgv,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    ...(place.env ? { env: { ...process.env, ...place.env } } : {}),
  };
  const child = place.fence ? place.fence.fork(entry.file, [], options) : fork(entry.file, [], options);
  // Killed if the sweep itself ends first, so that no cell outlives it; with whatever processes
  // the job started, which a cell killed alone would leave behind, orphaned.
  const kill = () => killProcessTree(child.pid);
  const forget = onExit(kill);
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });

  const invocationBudgetMs = job.invocationTimeoutMs / job.timeScale;
  let open = true;
  let confined = false;
  let watchdog: NodeJS.Timeout | undefined;
  // The cell being measured; the first one also waits for the preparation and the warm-up.
  let current: Measurement | undefined;
  // A failure before the first cell (a handler that does not load, a warm-up that times out).
  let preparationFailure: CellRun | undefined;
  let resolvePrepared: () => void = () => {};
  const prepared = new Promise<void>((resolve) => {
    resolvePrepared = resolve;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const fail = (run: Extract<CellRun, { error: string }>) => {
    if (current) current.outcome ??= { ...run, reps: current.reps };
    else preparationFailure ??= run;
  };
  const armWatchdog = (budgetMs: number, what: string) => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      fail({ state: 'timeout', reps: [], error: `${what} did not finish within ${Math.round(budgetMs / 1000)} s` });
      kill();
    }, budgetMs);
  };
  armWatchdog(invocationBudgetMs * job.warmupInvocations + STARTUP_ALLOWANCE_MS, 'the cell process\'s start and warm-up');

  child.on('message', (message: ChildMessage) => {
    switch (message.type) {
      case 'ready':
        child.send({ type: 'prepare', job } satisfies ParentMessage);
        break;
      case 'prepared':
        clearTimeout(watchdog);
        resolvePrepared();
        break;
      case 'rep':
        current?.reps.push(message.rep);
        current?.onRep?.(message.rep);
        break;
      case 'timeout':
        fail({ state: 'timeout', reps: [], error: `an invocation ran longer than the function timeout (${job.invocationTimeoutMs / 1000} s)` });
        break;
      case 'failed':
        fail({ state: 'errored', reps: [], error: message.error });
        break;
      case 'done':
        if (current) {
          clearTimeout(watchdog);
          const finished = current;
          current = undefined;
          finished.resolve({ state: 'completed', reps: finished.reps });
        }
        break;
    }
  });

  child.on('exit', (code, signal) => {
    open = false;
    forget();
    clearTimeout(watchdog);
    const death: Extract<CellRun, { error: string }> = isOutOfMemory(stderrTail)
      ? { state: 'oom', reps: [], error: `the job ran out of memory (heap limit ${limits.heapMb ?? 'default'} MB)` }
      : { state: 'errored', reps: [], error: `the cell process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${lastLine(stderrTail)}` };
    fail(death);
    resolvePrepared();
    if (current) {
      const ended = current;
      current = undefined;
      ended.resolve(ended.outcome!);
    }
  });

  return {
    get open() {
      return open;
    },
    async measure(concurrency, onRep, reps = job.reps) {
      await prepared;
      if (preparationFailure) return preparationFailure;
      if (!open) return { state: 'errored', reps: [], error: 'the cell process had already ended' };
      if (!confined) {
        try {
          limits.confine?.(child.pid!);
          confined = true;
        } catch (error) {
          kill();
          return { state: 'errored', reps: [], error: `could not confine the cell: ${(error as Error).message}` };
        }
      }
      return new Promise<CellRun>((resolve) => {
        current = { reps: [], onRep, outcome: undefined, resolve };
        armWatchdog(invocationBudgetMs * reps + STARTUP_ALLOWANCE_MS, 'the cell');
        child.send({ type: 'cell', concurrency, reps } satisfies ParentMessage);
      });
    },
    async close() {
      if (!open) return;
      const killer = setTimeout(() => kill(), CLOSE_ALLOWANCE_MS);
      child.send({ type: 'finish' } satisfies ParentMessage);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Runs one cell in a fresh Node process of its own and reports each repetition as it arrives. */
export async function runCell(job: CellJob, limits: CellLimits = {}, onRep?: (rep: RepMeasurement) => void, place: CellPlace = {}): Promise<CellRun> {
  const session = await openCellSession(job, limits, place);
  try {
    return await session.measure(job.concurrency, onRep);
  } finally {
    await session.close();
  }
}

export function isOutOfMemory(stderr: string): boolean {
  return /heap out of memory|Reached heap limit|Allocation failed/i.test(stderr);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() && !line.startsWith('    at '));
  return lines.at(-1) ?? 'no error output';
}
