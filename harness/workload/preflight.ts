import { fork, type ForkOptions } from 'node:child_process';
import { openFence, type Fence } from '../isolate/fence.ts';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import type { Scenario } from '../scenario/schema.ts';
import { createTableSql, missingVariableMessage, resolveConnectionString, resolveFromScenario } from './database.ts';
import { NO_MODULE_FIX } from './load-handler.ts';
import { isFunctionWorkload, resolveFunction, type FunctionSpec } from './function-spec.ts';
import { checkHandlerDefined } from './handler-defined.ts';
import type { ProbeReply, ProbeRequest } from './probe-child.ts';
import { onExit } from '../run/on-exit.ts';
import { killProcessTree } from '../run/process-tree.ts';

/**
 * What the cells will need from outside the scenario file, checked before the sweep starts, so
 * that a wrong path or a missing variable fails in seconds with one message instead of turning
 * every cell into `errored`.
 */

const PROBE_CHILD = fileURLToPath(new URL('./probe-child.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const PROBE_TIMEOUT_MS = 60_000;

/** The directory a scenario's relative paths start from. */
export function scenarioDirOf(scenarioFile: string): string {
  return dirname(scenarioFile);
}

/** Checks what the cells will need; for a deployed function, returns it resolved (template, handler, interpreter, event). */
export async function preflight(scenario: Scenario, scenarioFile: string, options: { fenced?: boolean } = {}): Promise<FunctionSpec | undefined> {
  const spec = await checkWorkload(scenario, scenarioFile, options);
  await checkSink(scenario, scenarioFile);
  return spec;
}

/**
 * Loads the handler module in a throwaway process with the mocks on and checks its export; in a
 * fence of its own when the cells will be fenced, since loading a module runs its code.
 */
export async function checkWorkload(scenario: Scenario, scenarioFile: string, options: { fenced?: boolean } = {}): Promise<FunctionSpec | undefined> {
  if (!scenario.workload) return undefined;
  // Resolve it all (template, handler, interpreter, event), so bad input says what to fix.
  if (!('module' in scenario.workload)) {
    const spec = resolveFunction(scenario, scenarioFile);
    const where =
      spec.source.template && spec.source.logicalId
        ? { file: spec.source.template, field: `${spec.source.logicalId}: Handler` }
        : { file: scenarioFile, field: 'workload.function.handler' };
    await checkHandlerDefined(spec, where);
    return spec;
  }
  const modulePath = resolveFromScenario(scenarioDirOf(scenarioFile), scenario.workload.module);
  if (!existsSync(modulePath)) {
    throw new InputError({ file: scenarioFile, field: 'workload.module', problem: `no such module ${modulePath}`, fix: NO_MODULE_FIX });
  }
  const fence = options.fenced ? await openFence() : undefined;
  let reply: ProbeReply;
  try {
    reply = await probe({ scenario, modulePath, exportName: scenario.workload.export }, fence);
  } finally {
    await fence?.close();
  }
  if (!reply.ok) throw new InputError({ file: scenarioFile, field: reply.field, problem: reply.problem, fix: reply.fix });
  return undefined;
}

function probe(request: ProbeRequest, fence: Fence | undefined): Promise<ProbeReply> {
  const options: ForkOptions = { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' };
  const child = fence ? fence.fork(PROBE_CHILD, [], options) : fork(PROBE_CHILD, [], options);
  // A module that hangs as it loads must not outlive a sweep stopped meanwhile (Ctrl-C, SIGTERM).
  const kill = () => killProcessTree(child.pid);
  const forget = onExit(kill);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2048);
  });
  return new Promise((resolve) => {
    let reply: ProbeReply | undefined;
    const timer = setTimeout(kill, PROBE_TIMEOUT_MS);
    child.on('message', (message: ProbeReply) => {
      reply = message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      forget();
      resolve(
        reply ?? {
          ok: false,
          field: 'workload.module',
          problem: `${request.modulePath} could not be loaded (the loading process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${stderr.trim().split('\n').at(-1) ?? ''})`,
          fix: 'make the module load with `node --import tsx` on its own',
        },
      );
    });
    child.send(request);
  });
}

/**
 * A PostgreSQL sink needs its variable set and its server reachable; the table is created here
 * once, so the cells only find it. The variable's value is read again in each cell's process.
 * A deployed function writes its own table with its own columns (and creates it, if it does):
 * the server is only checked to answer, and the table is left alone.
 */
export async function checkSink(scenario: Scenario, scenarioFile: string): Promise<void> {
  const sink = scenario.sink;
  if (sink.kind !== 'postgres') return;
  const connectionString = resolveConnectionString(sink.url, process.env);
  if (!connectionString) {
    throw new InputError({
      file: scenarioFile,
      field: 'sink.url',
      problem: missingVariableMessage(sink.url),
      fix: `export ${sink.url.slice('env:'.length)}=postgres://USER:PASSWORD@HOST/DB, or use "kind": "pglite" for an embedded database`,
    });
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(isFunctionWorkload(scenario.workload) ? 'SELECT 1' : createTableSql(sink.table));
  } catch (error) {
    throw new InputError({
      file: scenarioFile,
      field: 'sink.url',
      problem: `cannot write to the PostgreSQL database it names (${(error as Error).message})`,
      fix: 'check that the server runs and the connection string (user, password, database) is right',
    });
  } finally {
    await client.end().catch(() => {});
  }
}
