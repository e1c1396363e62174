/**
 * The deployed function's own process, started as Lambda starts it: its runtime client (ours for
 * Python and Node, the function's `bootstrap` for a custom runtime) in the function's code
 * directory, with the environment Lambda sets, talking to the Runtime API; inside a memory cgroup
 * of the function's size from its first instruction, so that INIT is limited and counted too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lambdaNodeArgs } from '../model/lambda.ts';
import type { FunctionGroup } from '../run/cgroup.ts';
import { onExit } from '../run/on-exit.ts';
import type { RuntimeApi } from './runtime-api.ts';

export type FunctionLanguage = 'python' | 'node' | 'custom';

export interface LambdaEnvironmentOptions {
  functionName: string;
  memoryMb: number;
  region: string;
  /** The function's timeout. Lambda sets no variable for it (the runtime reads the deadline of each event); kept for the caller's invocations. */
  timeoutS: number;
  /** _HANDLER: "app.lambda_handler", "src/app.handler"; for a custom runtime whatever its bootstrap reads. */
  handler: string;
  /** LAMBDA_TASK_ROOT: the function's code directory (/var/task in Lambda). */
  taskRoot: string;
  /** AWS_LAMBDA_RUNTIME_API: host:port of the Runtime API. */
  runtimeApi: string;
  /** The function's own variables (from its deployment). */
  environment?: Record<string, string>;
  /** The variable the function reads its concurrency (max_workers) from, set to the cell's `concurrency`. */
  concurrencyVariable?: string;
  concurrency?: number;
  /** Lambda's runtime identifier ("python3.12", "nodejs20.x"), for AWS_EXECUTION_ENV; none for OS-only (provided.*) runtimes. */
  runtime?: string;
  /** AWS_LAMBDA_LOG_STREAM_NAME; Lambda's is "<date>/[$LATEST]<instance id>". */
  logStreamName?: string;
}

/** PATH in Lambda's execution environment. */
export const LAMBDA_PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin';

/**
 * The environment Lambda gives the function's process. The function may set TZ, LANG and PATH
 * itself, but not the reserved variables, which come last; the concurrency variable is the cell's.
 */
export function buildLambdaEnvironment(options: LambdaEnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: LAMBDA_PATH,
    ...options.environment,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: options.logStreamName ?? '1970/01/01/[$LATEST]fanouttuner',
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    LAMBDA_TASK_ROOT: options.taskRoot,
    _HANDLER: options.handler,
    AWS_LAMBDA_RUNTIME_API: options.runtimeApi,
  };
  if (options.runtime && !options.runtime.startsWith('provided')) env.AWS_EXECUTION_ENV = `AWS_Lambda_${options.runtime}`;
  if (options.concurrencyVariable) {
    if (options.concurrency === undefined) throw new Error(`concurrencyVariable ${options.concurrencyVariable} needs the cell's concurrency`);
    env[options.concurrencyVariable] = String(options.concurrency);
  }
  return env;
}

export interface BootstrapCommand {
  command: string;
  args: string[];
}

/** Our runtime clients, shipped as plain files beside this module. */
export const PYTHON_BOOTSTRAP = fileURLToPath(new URL('./clients/bootstrap.py', import.meta.url));
export const NODE_BOOTSTRAP = fileURLToPath(new URL('./clients/bootstrap.mjs', import.meta.url));

/**
 * The command that starts the function's runtime: python runs our bootstrap.py with the given
 * interpreter (python3 by default); node runs our bootstrap.mjs with this Node (or `interpreter`),
 * started with the flags Lambda's Node runtime uses at `memoryMb` if given (its heap above all);
 * custom runs the function's own `bootstrap` from its code directory.
 */
export function bootstrapCommand(options: { language: FunctionLanguage; interpreter?: string; codeDir: string; memoryMb?: number }): BootstrapCommand {
  switch (options.language) {
    case 'python':
      return { command: options.interpreter ?? 'python3', args: [PYTHON_BOOTSTRAP] };
    case 'node':
      return {
        command: options.interpreter ?? process.execPath,
        args: [...(options.memoryMb ? lambdaNodeArgs(options.memoryMb) : []), NODE_BOOTSTRAP],
      };
    case 'custom':
      return { command: join(options.codeDir, 'bootstrap'), args: [] };
  }
}

/** `command` as a path: found on this process's PATH (the function's own PATH is Lambda's, which may not hold it here). */
export function resolveExecutable(command: string): string {
  if (command.includes('/')) return command;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${command} was not found on PATH`);
}

const interpreters = new Map<string, string>();

/** The Python binary behind `interpreter` (past pyenv-style shims, which would add their start-up to INIT). */
export function pythonExecutable(interpreter = 'python3'): string {
  let found = interpreters.get(interpreter);
  if (!found) {
    const result = spawnSync(interpreter, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    if (result.status !== 0 || !result.stdout.trim()) throw new Error(`${interpreter} did not run: ${result.error?.message ?? result.stderr.trim()}`);
    found = result.stdout.trim();
    interpreters.set(interpreter, found);
  }
  return found;
}

export interface FunctionExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The OOM killer ended a process of the function's memory group. */
  outOfMemory: boolean;
}

export interface FunctionProcessOptions {
  command: BootstrapCommand;
  env: Record<string, string>;
  /** The working directory: the code directory, as Lambda starts runtimes in /var/task. */
  cwd: string;
  /** Joined before the runtime's first instruction (a shell writes itself into it, then execs the runtime). */
  group?: FunctionGroup;
  /** Starts INIT's clock at the spawn, and hears of the process's exit (failing its invocation as Lambda would). */
  runtimeApi?: RuntimeApi;
  /**
   * Runs the final command somewhere else or under more limits: inside the cell's namespaces
   * (`Fence.enter`), under Lambda's file descriptor quota (`underFileDescriptorQuota`). Each execs
   * the next, so the pid stays the runtime's.
   */
  wrap?: (command: BootstrapCommand) => BootstrapCommand;
}

export interface FunctionProcess {
  readonly pid: number;
  readonly exited: Promise<FunctionExit>;
  /** The last 16 KB of what the function wrote to stdout and stderr (its log). */
  output(): string;
  /** Ends the function's processes (the whole process group and memory group); resolves when the runtime has exited. */
  kill(): Promise<FunctionExit>;
}

const OUTPUT_TAIL_BYTES = 16 * 1024;

/** `sh -c` that writes its own pid into each procs file, then execs the runtime in the groups. */
function joinGroupsFirst(command: BootstrapCommand, procsFiles: readonly string[]): BootstrapCommand {
  const writes = procsFiles.map((_, index) => `echo $$ > "$${index + 1}"`).join(' && ');
  return {
    command: '/bin/sh',
    args: ['-c', `${writes} && shift ${procsFiles.length} && exec "$@"`, 'fanout-tuner-join', ...procsFiles, command.command, ...command.args],
  };
}

const linuxTools = new Map<string, string | null>();

/** Where util-linux's `name` is on Linux (looked up once), or null: elsewhere, or not installed. */
export function linuxTool(name: 'setpriv' | 'prlimit'): string | null {
  let found = linuxTools.get(name);
  if (found === undefined) {
    try {
      found = process.platform === 'linux' ? resolveExecutable(name) : null;
    } catch {
      found = null;
    }
    linuxTools.set(name, found);
  }
  return found;
}

/**
 * The runtime killed by the kernel if the sweep dies first (PR_SET_PDEATHSIG, through util-linux's
 * `setpriv`, which then execs it): a runtime has no IPC channel to notice, and one in the middle of
 * an invocation would run on, unowned, until it ended. Where there is no setpriv the command is
 * unchanged; the next sweep then kills what is left in the function's groups.
 */
function killedWithSweep(command: BootstrapCommand): BootstrapCommand {
  const setpriv = linuxTool('setpriv');
  return setpriv ? { command: setpriv, args: ['--pdeathsig', 'KILL', '--', command.command, ...command.args] } : command;
}

export function startFunctionProcess(options: FunctionProcessOptions): FunctionProcess {
  const runtime = { command: resolveExecutable(options.command.command), args: options.command.args };
  const guarded = killedWithSweep(runtime);
  const joined = options.group ? joinGroupsFirst(guarded, options.group.procsFiles) : guarded;
  const { command, args } = options.wrap ? options.wrap(joined) : joined;
  options.runtimeApi?.beginInit();
  // Its own process group, so that whatever the function starts ends with it.
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  let running = pid !== undefined;
  const killAll = () => {
    // Once the runtime has exited (and its leftovers were ended with it) its pid may be another
    // process's: then only the members of our own groups are signalled.
    if (running && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const file of options.group?.procsFiles ?? []) {
      try {
        for (const member of readFileSync(file, 'utf8').split('\n').filter(Boolean)) process.kill(Number(member), 'SIGKILL');
      } catch {
        // the group or its processes are gone
      }
    }
  };
  const forget = onExit(killAll);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<FunctionExit>((resolve) => {
    let done = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      // Whatever the function started goes with it, as Lambda ends the whole environment.
      killAll();
      running = false;
      forget();
      const exit: FunctionExit = { exitCode, signal, outOfMemory: options.group?.outOfMemory() ?? false };
      options.runtimeApi?.runtimeExited(exit);
      resolve(exit);
    };
    child.once('error', (error) => {
      keep(Buffer.from(`fanout-tuner: could not start ${runtime.command}: ${error.message}\n`));
      if (child.pid === undefined) finish(null, null);
    });
    // 'exit', not 'close': a process the function left behind may hold the pipes open.
    child.once('exit', finish);
  });
  return {
    pid: pid ?? -1,
    exited,
    output: () => tail,
    kill() {
      killAll();
      return exited;
    },
  };
}
