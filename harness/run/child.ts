/**
 * A cell's child process: a fresh Node, like a fresh Lambda container. It prepares what a Lambda
 * does in its INIT phase (the mocks, the sink's connections, the user's handler module), waits
 * until the parent has put it under its CPU quota, runs the warm-up and the timed invocations,
 * and reports each one as soon as it ends.
 */
import { startMocks, type Mocks } from '../mock/mocks.ts';
import { sleep } from '../mock/replay-server.ts';
import { planRequests } from '../scenario/plan.ts';
import { openSink, resolveFromScenario, type SinkProvider } from '../workload/database.ts';
import type { Handler, HandlerRow } from '../workload/handler.ts';
import { importHandler } from '../workload/load-handler.ts';
import { runScraper, type InvocationOutcome } from '../workload/scraper.ts';
import type { Sink } from '../workload/sink.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';
import { mainThreadCpuClock } from './thread-cpu.ts';
import { createParsePool, type ParsePool } from '../workload/parse-pool.ts';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

class InvocationTimeout extends Error {}

const CLOSE_GRACE_MS = 2000;

/** One invocation of the job, with a fresh sink; the mocks are reset before it. */
type Invoke = (sink: Sink, run: { concurrency: number; timeScale: number }) => Promise<InvocationOutcome>;

/** The warm-up only loads code and warms the JIT: its waits can be as short as the timers allow. */
const WARMUP_SPEEDUP = 50;

interface Prepared {
  mocks: Mocks;
  sinks: SinkProvider;
  invoke: Invoke;
  /** The parse worker pool of `work.threads`, for the built-in job. */
  pool: ParsePool | undefined;
}

async function invokeWithin(job: CellJob, prepared: Prepared, warmup = false): Promise<InvocationOutcome> {
  const run = warmup
    ? { concurrency: job.warmupConcurrency, timeScale: job.timeScale * WARMUP_SPEEDUP }
    : { concurrency: job.concurrency, timeScale: job.timeScale };
  prepared.mocks.beginInvocation(run.timeScale);
  const sink = prepared.sinks.forInvocation(run.timeScale);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeout()), job.invocationTimeoutMs / job.timeScale);
  });
  try {
    return await Promise.race([prepared.invoke(sink, run), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The sink as a handler sees it: checks each row, since a handler is not type-checked with the harness. */
function handlerSink(sink: Sink): { write(row: HandlerRow): Promise<void> } {
  return {
    write(row: HandlerRow): Promise<void> {
      if (!row || typeof row.url !== 'string' || typeof row.title !== 'string' || !Number.isInteger(row.links)) {
        return Promise.reject(new TypeError(`sink.write needs { url: string, title: string, links: integer }, got ${JSON.stringify(row)}`));
      }
      return sink.write({ url: row.url, title: row.title, links: row.links });
    },
  };
}

/** Calls the user's handler as Lambda would, and counts its requests on the mock's side. */
function handlerInvocation(handler: Handler, job: CellJob, mocks: Mocks): Invoke {
  const urls = planRequests(job.scenario).map((request) => request.url);
  return async (sink) => {
    const started = performance.now();
    let result: Awaited<ReturnType<Handler>>;
    try {
      result = await handler({ urls: [...urls], concurrency: job.concurrency, sink: handlerSink(sink) });
    } catch (error) {
      throw new Error(`the handler threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    await sink.flush();
    const durationMs = (performance.now() - started) * job.timeScale;
    const rowsElsewhere = result && typeof result.rows === 'number' ? result.rows : 0;
    return { durationMs, ...mocks.servedCounts(), rowsWritten: sink.rowsWritten + rowsElsewhere };
  };
}

async function prepare(job: CellJob): Promise<Prepared> {
  const mocks = startMocks({ scenario: job.scenario, timeScale: job.timeScale });
  const scenarioDir = job.scenarioDir ?? process.cwd();
  try {
    const threads = job.scenario.work.threads;
    const pool = threads > 0 && job.scenario.work.parse !== 'none' && !job.scenario.workload ? createParsePool(threads) : undefined;
    let invoke: Invoke = (sink, run) => runScraper(job.scenario, { ...run, sink, ...(pool ? { pool } : {}) });
    const workload = job.scenario.workload;
    if (workload) {
      // Set before the module loads: a handler may read its configuration at load time.
      process.env.MAX_WORKERS = String(job.concurrency);
      const load = await importHandler(resolveFromScenario(scenarioDir, workload.module), workload.export);
      if (!load.ok) throw new Error(`${load.field}: ${load.problem}`);
      invoke = handlerInvocation(load.handler, job, mocks);
    }
    const sinks = await openSink(job.scenario, job.timeScale, scenarioDir);
    return { mocks, sinks, invoke, pool };
  } catch (error) {
    mocks.stop();
    throw error;
  }
}

function waitForStart(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: ParentMessage) => {
      if (message.type !== 'start') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}

const loopCpu = mainThreadCpuClock();

async function run(job: CellJob): Promise<void> {
  let prepared: Prepared;
  try {
    const started = waitForStart();
    prepared = await prepare(job);
    await send({ type: 'prepared' });
    await started;
  } catch (error) {
    await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    return;
  }
  try {
    for (let i = 0; i < job.warmupInvocations; i++) await invokeWithin(job, prepared, true);
    for (let i = 0; i < job.reps; i++) {
      const loopBefore = loopCpu?.();
      const cpuBefore = process.cpuUsage();
      const outcome = await invokeWithin(job, prepared);
      const cpu = process.cpuUsage(cpuBefore);
      const loopCpuMs = loopCpu && loopBefore !== undefined ? loopCpu() - loopBefore : undefined;
      const rep: RepMeasurement = {
        durationMs: outcome.durationMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(loopCpuMs !== undefined ? { loopCpuMs } : {}),
        mockCpuMs: prepared.mocks.server.mockCpuMs(),
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        requests: outcome.requests,
        errors: outcome.errors,
        retries: outcome.retries,
        errorsByKind: outcome.errorsByKind,
        requestLatenciesMs: outcome.requestLatenciesMs,
        unmockedRequests: [...prepared.mocks.unmockedRequests()],
        mockFailures: [...prepared.mocks.mockFailures()],
      };
      await send({ type: 'rep', rep });
    }
    // Close before reporting done: PGlite writes its data directory on close.
    await prepared.sinks.close();
    await send({ type: 'done' });
  } catch (error) {
    if (error instanceof InvocationTimeout) await send({ type: 'timeout', afterMs: job.invocationTimeoutMs });
    else await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    // Keep what was written (PGlite writes on close), but do not wait on writes a hung job left.
    await Promise.race([prepared.sinks.close().catch(() => {}), sleep(CLOSE_GRACE_MS)]);
  } finally {
    prepared.mocks.stop();
    await prepared.pool?.close();
  }
}

process.once('message', (message: ParentMessage) => {
  if (message.type === 'run') {
    run(message.job).then(
      // Exit at once: a timed-out invocation may leave requests and timers behind.
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      },
    );
  }
});
void send({ type: 'ready' });
