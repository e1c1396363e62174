import { makeTempDir } from './temp-dirs.ts';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { callFence } from '../isolate/fence-control.ts';
import { openFence, RUNTIME_API_ADDRESS, type Fence } from '../isolate/fence.ts';
import { databaseRoute } from '../isolate/database-bridge.ts';
import type { FenceTally } from '../isolate/fence-protocol.ts';
import { trustEnvironment, type Certificates } from '../isolate/tls.ts';
import { RuntimeApi, type InvocationResult } from '../runtime/runtime-api.ts';
import { bootstrapCommand, buildLambdaEnvironment, startFunctionProcess, type FunctionProcess } from '../runtime/function-process.ts';
import type { FunctionGroup, FunctionGroupController } from './cgroup.ts';
import { resolveConnectionString } from '../workload/database.ts';
import type { FunctionSpec } from '../workload/function-spec.ts';
import type { CellJob, RepMeasurement } from './protocol.ts';
import { planRequests, type PlannedRequest } from '../scenario/plan.ts';
import type { CellRun, CellSession } from './cell-session.ts';
import { underFileDescriptorQuota } from './lambda-quotas.ts';
import { LAMBDA_PROCESSES } from '../model/lambda.ts';

/**
 * A cell of a deployed function: its own runtime process (Python, Node or a custom bootstrap),
 * unchanged, called as Lambda calls it through the Lambda Runtime API, inside a fence whose
 * servers are the scenario's hosts over real TLS and whose database is the real one behind the
 * scenario's latency. One process per cell, since the concurrency variable is read from the
 * environment, often once when the module loads; its INIT and one untimed warm-up invocation
 * come first, as a warm container's would.
 *
 * Each invocation's duration is the Runtime API's (from handing the event out to the answer),
 * its CPU and peak memory the cgroup's (the whole process tree, any runtime), its requests,
 * errors and connections counted by the servers, its rows counted in the database.
 */

export interface FunctionCellPlace {
  controller: FunctionGroupController;
  /** CPUs the quota allows (the memory size's share, capped at the cores the cell may use). */
  cpus: number;
  certificates: Certificates;
  /** The sweep's region, for AWS_REGION. */
  region: string;
}

/** Credentials that look real to an AWS SDK, so it signs and sends (and the fence stops the request) instead of failing before. */
const PLACEHOLDER_AWS_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAFANOUTTUNER00000',
  AWS_SECRET_ACCESS_KEY: 'fanout-tuner-placeholder-secret-key-000000',
  AWS_SESSION_TOKEN: 'fanout-tuner-placeholder-session-token',
};

const FUNCTION_NAME_FALLBACK = 'function';

export async function openFunctionSession(spec: FunctionSpec, job: CellJob, place: FunctionCellPlace): Promise<CellSession> {
  const scenario = job.scenario;
  const socketDir = makeTempDir('runtime');
  const functionName = spec.source.logicalId ?? FUNCTION_NAME_FALLBACK;
  let api: RuntimeApi | undefined;
  let fence: Fence | undefined;
  let group: FunctionGroup | undefined;
  let runtime: FunctionProcess | undefined;
  let rows: RowCounter | undefined;
  const release = async () => {
    await runtime?.kill();
    await api?.close();
    await fence?.close();
    group?.remove();
    await rows?.close();
    rmSync(socketDir, { recursive: true, force: true });
  };

  try {
    api = await RuntimeApi.start({
      ...RUNTIME_API_ADDRESS,
      host: RUNTIME_API_ADDRESS.address,
      socketPath: join(socketDir, 'runtime.sock'),
      functionName,
      region: place.region,
    });
    fence = await openFence(
      { scenario, timeScale: job.timeScale, certificates: place.certificates, runtimeApiSocket: join(socketDir, 'runtime.sock') },
      [],
      databaseRoute(scenario, process.env, job.timeScale),
    );
    const sink = scenario.sink;
    const connectionString = sink.kind === 'postgres' ? resolveConnectionString(sink.url, process.env) : undefined;
    rows = sink.kind === 'postgres' && connectionString ? await RowCounter.open(connectionString, sink.table) : undefined;
    group = place.controller.create({ memoryMb: job.memoryMb, cpus: place.cpus, tasks: LAMBDA_PROCESSES });
    const env = {
      ...buildLambdaEnvironment({
        functionName,
        memoryMb: job.memoryMb,
        region: place.region,
        timeoutS: spec.timeoutS,
        handler: spec.handler,
        taskRoot: spec.codeDir,
        runtimeApi: `${RUNTIME_API_ADDRESS.address}:${RUNTIME_API_ADDRESS.port}`,
        environment: { ...PLACEHOLDER_AWS_CREDENTIALS, ...trustEnvironment(place.certificates.caFile), ...spec.environment },
        ...(spec.concurrencyVariable ? { concurrencyVariable: spec.concurrencyVariable, concurrency: job.concurrency } : {}),
        runtime: spec.runtime,
      }),
    };
    const entered = fence;
    runtime = startFunctionProcess({
      command: bootstrapCommand({ language: spec.language, interpreter: spec.interpreter, codeDir: spec.codeDir, memoryMb: job.memoryMb }),
      env,
      cwd: spec.codeDir,
      group,
      runtimeApi: api,
      wrap: (command) => entered.enter(underFileDescriptorQuota(command), spec.codeDir),
    });
  } catch (error) {
    await release();
    throw error;
  }

  const controlSocket = fence.controlSocket!;
  const timeoutMs = spec.timeoutS * 1000;
  let open = true;
  let released = false;
  const finish = async () => {
    open = false;
    if (released) return;
    released = true;
    await release();
  };

  /** What a failed invocation means for the cell, in Lambda's words. */
  const failure = async (result: Exclude<InvocationResult, { state: 'completed' }>, reps: RepMeasurement[]): Promise<CellRun> => {
    if (result.state === 'timeout') {
      await runtime!.kill();
      return { state: 'timeout', reps, error: `an invocation ran longer than the function timeout (${spec.timeoutS} s)` };
    }
    const exit = await Promise.race([runtime!.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
    if (exit?.outOfMemory || group!.outOfMemory()) {
      return { state: 'oom', reps, error: `the function ran out of memory (limit ${job.memoryMb} MB): ${result.errorMessage}` };
    }
    const where = result.state === 'init-error' ? 'INIT failed' : 'the function raised';
    const log = runtime!.output().trim().split('\n').slice(-3).join(' | ');
    // The error names what failed (a thread, a fork); the group knows why.
    const atTaskQuota = (group!.usage().tasksRefused ?? 0) > 0 ? ` (it reached Lambda's quota of ${group!.tasks} processes and threads)` : '';
    return {
      state: 'errored',
      reps,
      error: `${where}: ${result.errorType}: ${result.errorMessage}${atTaskQuota}${log && result.state === 'init-error' ? ` (log: ${log})` : ''}`,
    };
  };

  // The warm-up's record of what the function requested, in its order, as the scenario's requests.
  const planned = new Map(planRequests(scenario).flatMap((request) => [[request.url, request] as const, [normalized(request.url), request] as const]));
  let recorded: PlannedRequest[] | undefined;

  /** One invocation, with the servers' tally and the cgroup's counters around it. */
  const invoke = async (): Promise<{ result: InvocationResult; rep?: RepMeasurement; order: string[] }> => {
    await callFence(controlSocket, 'POST', `/begin?timeScale=${job.timeScale}`);
    const rowsBefore = await rows?.count();
    const cpuBefore = group!.usage().cpuUs ?? 0;
    const result = await api!.invoke(spec.event, { timeoutMs });
    const usage = group!.usage();
    const tally = JSON.parse(await callFence(controlSocket, 'GET', '/tally')) as FenceTally;
    const order = tally.requestOrder;
    if (result.state !== 'completed') return { result, order };
    const rowsAfter = await rows?.count();
    return {
      result,
      order,
      rep: {
        durationMs: result.durationMs,
        cpuMs: ((usage.cpuUs ?? 0) - cpuBefore) / 1000,
        mockCpuMs: 0,
        peakRssMb: (usage.peakMemoryBytes ?? 0) / 2 ** 20,
        requests: tally.served.requests,
        errors: tally.served.errors,
        retries: tally.served.retries,
        errorsByKind: tally.served.errorsByKind,
        requestLatenciesMs: tally.served.requestLatenciesMs,
        unmockedRequests: tally.unmocked,
        blockedLookups: tally.lookups,
        mockFailures: tally.failures,
        connectionsOpened: tally.connectionsOpened,
        serverCpuMs: tally.serverCpuMs,
        ...(tally.latencyTimerLateMs !== undefined ? { latencyTimerLateMs: tally.latencyTimerLateMs } : {}),
        ...(rowsBefore !== undefined && rowsAfter !== undefined ? { rowsWritten: rowsAfter - rowsBefore } : {}),
      },
    };
  };

  // INIT, then the warm-up: a Lambda container's first, untimed invocation.
  const warmedUp = (async (): Promise<CellRun | undefined> => {
    const init = await api!.init;
    if (init.state === 'init-error') return failure({ state: 'init-error', errorType: init.errorType, errorMessage: init.errorMessage }, []);
    for (let i = 0; i < job.warmupInvocations; i++) {
      const { result, order } = await invoke();
      if (result.state !== 'completed') return failure(result, []);
      // URLs outside the plan are refused by the servers and named by the cell; the rest are kept.
      recorded = order.flatMap((url) => planned.get(url) ?? planned.get(normalized(url)) ?? []);
    }
    return undefined;
  })();

  return {
    get open() {
      return open;
    },
    async measure(concurrency, onRep, timedReps = job.reps) {
      if (concurrency !== job.concurrency) throw new Error(`a function's process serves one concurrency (${job.concurrency}), asked for ${concurrency}`);
      const early = await warmedUp;
      if (early) {
        await finish();
        return early;
      }
      const reps: RepMeasurement[] = [];
      for (let i = 0; i < timedReps; i++) {
        const { result, rep } = await invoke();
        if (!rep) {
          const run = await failure(result as Exclude<InvocationResult, { state: 'completed' }>, reps);
          await finish();
          return run;
        }
        reps.push(rep);
        onRep?.(rep);
      }
      return { state: 'completed', reps, ...(recorded ? { requests: recorded } : {}) };
    },
    close: finish,
  };
}

function normalized(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Counts the rows of the sink's table from the sweep's side (the function writes them with its own client). */
class RowCounter {
  private constructor(
    private readonly client: import('pg').Client,
    private readonly table: string,
  ) {}

  static async open(connectionString: string, table: string): Promise<RowCounter> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString });
    await client.connect();
    return new RowCounter(client, table);
  }

  async count(): Promise<number> {
    // The function may create its table during its first invocation.
    const exists = await this.client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [this.table]);
    if (!exists.rows[0]?.t) return 0;
    const result = await this.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(result.rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
