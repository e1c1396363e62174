import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import type { Fence } from '../isolate/fence.ts';
import { lambdaNodeArgs, lambdaNodeHeap } from '../model/lambda.ts';
import type { PlannedRequest } from '../scenario/plan.ts';
import { underFileDescriptorQuota } from './lambda-quotas.ts';
import { onExit } from './on-exit.ts';
import { bundledEntry, typeScriptEntry } from './cell-process-entry.ts';
import { killProcessTree } from './process-tree.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';

/** How a cell's process is confined, decided by the sweep from the memory size. */
export interface CellLimits {
  /**
   * The Lambda memory size whose Node flags the process starts with (its heap above all), so that
   * V8 collects as it would on Lambda and a job that needs more heap than the size fails as `oom`.
   */
  lambdaMemoryMb?: number;
  /** Open file descriptors the process may hold at once, as Lambda's quota holds a function's. */
  fileDescriptors?: number;
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

/**
 * A user's TypeScript handler is compiled as it is imported, by the loader, whose modules and
 * compiler then count in the cell's memory (27 to 37 MB in the example fetch handler's cells at
 * 128 MB) and add a second to its start. A JavaScript handler needs none of it: its cell starts
 * from the bundle, as the built-in job's does, and its memory is closer to what it uses on Lambda.
 */
function needsTypeScriptLoader(workload: CellJob['scenario']['workload']): boolean {
  if (!workload) return false;
  return !('module' in workload) || !/\.(?:m|c)?js$/i.test(workload.module);
}

/** Starts a cell process; it prepares and warms up at once, and is confined before its first cell. */
export async function openCellSession(job: CellJob, limits: CellLimits = {}, place: CellPlace = {}): Promise<CellSession> {
  const entry = needsTypeScriptLoader(job.scenario.workload) ? typeScriptEntry() : await bundledEntry();
  const execArgv = [...entry.execArgv];
  if (limits.lambdaMemoryMb) execArgv.push(...lambdaNodeArgs(limits.lambdaMemoryMb));
  const node = { command: process.execPath, args: execArgv };
  const started = limits.fileDescriptors ? underFileDescriptorQuota(node, limits.fileDescriptors) : node;
  // A handler's console.log goes nowhere, as a Lambda's goes to its logs rather than the caller;
  // it would tear the sweep's progress lines. stderr is kept for the cause of a crash.
  const options: ForkOptions = {
    execPath: started.command,
    execArgv: started.args,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    ...(place.env ? { env: { ...process.env, ...place.env } } : {}),
  };
  const child = place.fence ? place.fence.fork(entry.file, [], options) : fork(entry.file, [], options);
  // Killed if the sweep itself ends first, so that no cell outlives it; with whatever processes
  // the job started, which a cell killed alone would leave behind, orphaned.
  const kill = () => killProcessTree(child.pid);
  const forget = onExit(kill);
  const stderr = new CellStderr();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => stderr.write(chunk));

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
  armWatchdog(invocationBudgetMs * job.warmupInvocations + STARTUP_ALLOWANCE_MS, "the cell process's start and warm-up");

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
    const death: Extract<CellRun, { error: string }> = stderr.ranOutOfMemory
      ? {
          state: 'oom',
          reps: [],
          error: `the job ran out of memory (heap limit ${limits.lambdaMemoryMb ? lambdaNodeHeap(limits.lambdaMemoryMb).oldSpaceMb : 'default'} MB)`,
        }
      : { state: 'errored', reps: [], error: `the cell process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${stderr.cause()}` };
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

const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed/i;
/** Longer than a marker or a fatal error's line: one split between two chunks is still seen whole. */
const CHUNK_OVERLAP = 512;
/** V8's "FATAL ERROR: ..." and "# Fatal JavaScript ..." / "# Fatal process out of memory: ..." lines, once whole. */
const FATAL_LINE = /^(?:# )?((?:FATAL ERROR: |Fatal ).*)(?=\n)/m;
/** A frame of a JavaScript stack ("    at f (file:1:2)") or of the native one V8 prints after a fatal error (" 7: 0x10e91f1 v8::..."). */
const STACK_FRAME = /^(?:\s+at |\s*\d+: 0x[0-9a-f]+)/;

/**
 * What a cell process's stderr says about how it ended, read as it arrives. V8 reports a heap
 * out of memory with a "FATAL ERROR: ... JavaScript heap out of memory" line followed by a native
 * stack trace, whose length depends on where the allocation failed and on the path of the node
 * binary: from a map transition of an object literal it is 23 frames and over 4 KB. Judged on the
 * last 4 KB at exit, such a cell came out `errored` ("killed by SIGABRT: 23: 0x195e476 [node]").
 * So the verdict is taken from every chunk, and only the text kept for the message is bounded.
 */
export class CellStderr {
  private tail = '';
  private outOfMemory = false;
  private fatalLine: string | undefined;

  write(chunk: string): void {
    const window = this.tail.slice(-CHUNK_OVERLAP) + chunk;
    if (OUT_OF_MEMORY.test(window)) this.outOfMemory = true;
    this.fatalLine ??= FATAL_LINE.exec(window)?.[1]!.trim();
    this.tail = (this.tail + chunk).slice(-STDERR_TAIL_BYTES);
  }

  get ranOutOfMemory(): boolean {
    return this.outOfMemory;
  }

  /** The line that says why the process ended: a fatal error's own, else the last one that is not a stack frame. */
  cause(): string {
    if (this.fatalLine) return this.fatalLine;
    const lines = this.tail
      .trim()
      .split('\n')
      .filter((line) => line.trim() && !STACK_FRAME.test(line) && !line.startsWith('----- Native stack trace'));
    return lines.at(-1) ?? 'no error output';
  }
}
