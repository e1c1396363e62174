/**
 * A cell process: a fresh Node, like a fresh Lambda container. It prepares what a Lambda does in
 * its INIT phase (the mocks, the sink's connections, the user's handler module) and runs the
 * warm-up; the parent then puts it under its CPU quota and has it measure one or more cells of
 * one memory size, as a warm container serves invocation after invocation. Each timed invocation
 * is reported as soon as it ends.
 */
import { fencedServerMocks, inProcessMocks, type JobMocks } from '../mock/job-mocks.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { planRequests } from '../scenario/plan.ts';
import { openSink, resolveFromScenario, type SinkProvider } from '../workload/database.ts';
import type { Handler, HandlerRow } from '../workload/handler.ts';
import { importHandler } from '../workload/load-handler.ts';
import { runScraper, type InvocationOutcome } from '../workload/scraper.ts';
import type { Sink } from '../workload/sink.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';
import { mainThreadCpuClock } from './thread-cpu.ts';
import { peakRssMb, resetPeakRss } from './peak-rss.ts';
import { createParsePool, type ParsePool } from '../workload/parse-pool.ts';
import { killDescendants } from './process-tree.ts';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

class InvocationTimeout extends Error {}

const CLOSE_GRACE_MS = 2000;

/**
 * One invocation of the job, with a fresh sink; the mocks are reset before it. The built-in job
 * counts its own requests; a user's handler reports none, so its are counted on the servers' side.
 */
type Invoke = (sink: Sink, run: { concurrency: number; timeScale: number }) => Promise<InvocationOutcome | HandlerOutcome>;

interface HandlerOutcome {
  durationMs: number;
  rowsWritten: number;
}

/** The warm-up only loads code and warms the JIT: its waits can be as short as the timers allow. */
const WARMUP_SPEEDUP = 50;

interface Prepared {
  mocks: JobMocks;
  sinks: SinkProvider;
  invoke: Invoke;
  /** The parse worker pool of `work.threads`, for the built-in job. */
  pool: ParsePool | undefined;
}

async function invokeWithin(job: CellJob, prepared: Prepared, concurrency: number, warmup = false): Promise<InvocationOutcome | HandlerOutcome> {
  const run = warmup ? { concurrency: job.warmupConcurrency, timeScale: job.timeScale * WARMUP_SPEEDUP } : { concurrency, timeScale: job.timeScale };
  await prepared.mocks.begin(run.timeScale);
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

/** Calls the user's handler as Lambda would; its requests are counted on the servers' side. */
function handlerInvocation(handler: Handler, job: CellJob): Invoke {
  const urls = planRequests(job.scenario).map((request) => request.url);
  return async (sink, run) => {
    const started = performance.now();
    let result: Awaited<ReturnType<Handler>>;
    try {
      result = await handler({ urls: [...urls], concurrency: run.concurrency, sink: handlerSink(sink) });
    } catch (error) {
      throw new Error(`the handler threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    await sink.flush();
    const durationMs = (performance.now() - started) * job.timeScale;
    const rowsElsewhere = result && typeof result.rows === 'number' ? result.rows : 0;
    return { durationMs, rowsWritten: sink.rowsWritten + rowsElsewhere };
  };
}

async function prepare(job: CellJob): Promise<Prepared> {
  const mocks = job.serversAt ? fencedServerMocks(job.serversAt) : await inProcessMocks({ scenario: job.scenario, timeScale: job.timeScale });
  const scenarioDir = job.scenarioDir ?? process.cwd();
  try {
    const threads = job.scenario.work.threads;
    const pool = threads > 0 && job.scenario.work.parse !== 'none' && !job.scenario.workload ? createParsePool(threads) : undefined;
    let invoke: Invoke = (sink, run) => runScraper(job.scenario, { ...run, sink, ...(pool ? { pool } : {}) });
    const workload = job.scenario.workload;
    if (workload) {
      // Function workloads are refused by the preflight until the runtime that runs them exists.
      if (!('module' in workload)) throw new Error('a function workload cannot run in a cell yet');
      // Set before the module loads: a handler may read its configuration at load time.
      process.env.MAX_WORKERS = String(job.concurrency);
      const load = await importHandler(resolveFromScenario(scenarioDir, workload.module), workload.export);
      if (!load.ok) throw new Error(`${load.field}: ${load.problem}`);
      invoke = handlerInvocation(load.handler, job);
    }
    const sinks = await openSink(job.scenario, job.timeScale, scenarioDir);
    return { mocks, sinks, invoke, pool };
  } catch (error) {
    mocks.stop();
    throw error;
  }
}

const loopCpu = mainThreadCpuClock();

/** Loads, opens and warms up; undefined once a failure is reported (the process then ends). */
async function prepareAndWarmUp(job: CellJob): Promise<Prepared | undefined> {
  let prepared: Prepared;
  try {
    prepared = await prepare(job);
  } catch (error) {
    await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
  try {
    for (let i = 0; i < job.warmupInvocations; i++) {
      await invokeWithin(job, prepared, job.concurrency, true);
      await prepared.mocks.end();
    }
  } catch (error) {
    await reportFailure(error, job, prepared);
    return undefined;
  }
  return prepared;
}

/** One cell: its timed invocations at `concurrency`. False if it failed (the process then ends). */
async function measureCell(job: CellJob, prepared: Prepared, concurrency: number, reps: number): Promise<boolean> {
  // Each cell's peak memory is its own, not the highest of the cells before it in this process.
  resetPeakRss();
  try {
    for (let i = 0; i < reps; i++) {
      const loopBefore = loopCpu?.();
      const cpuBefore = process.cpuUsage();
      const invoked = await invokeWithin(job, prepared, concurrency);
      const cpu = process.cpuUsage(cpuBefore);
      const loopCpuMs = loopCpu && loopBefore !== undefined ? loopCpu() - loopBefore : undefined;
      const tally = await prepared.mocks.end();
      const counts = 'requests' in invoked ? invoked : tally.served;
      const rep: RepMeasurement = {
        durationMs: invoked.durationMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(loopCpuMs !== undefined ? { loopCpuMs } : {}),
        mockCpuMs: tally.mockCpuMs,
        peakRssMb: peakRssMb(),
        requests: counts.requests,
        errors: counts.errors,
        retries: counts.retries,
        errorsByKind: counts.errorsByKind,
        requestLatenciesMs: counts.requestLatenciesMs,
        unmockedRequests: tally.unmocked,
        blockedLookups: tally.lookups,
        mockFailures: tally.failures,
        ...(tally.connectionsOpened !== undefined ? { connectionsOpened: tally.connectionsOpened } : {}),
        ...(tally.serverCpuMs !== undefined ? { serverCpuMs: tally.serverCpuMs } : {}),
        ...(tally.latencyTimerLateMs !== undefined ? { latencyTimerLateMs: tally.latencyTimerLateMs } : {}),
        ...('descriptorFailures' in invoked && invoked.descriptorFailures > 0 ? { descriptorFailures: invoked.descriptorFailures } : {}),
      };
      await send({ type: 'rep', rep });
    }
  } catch (error) {
    await reportFailure(error, job, prepared);
    return false;
  }
  await send({ type: 'done' });
  return true;
}

async function reportFailure(error: unknown, job: CellJob, prepared: Prepared): Promise<void> {
  if (error instanceof InvocationTimeout) await send({ type: 'timeout', afterMs: job.invocationTimeoutMs });
  else await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  // Keep what was written (PGlite writes on close), but do not wait on writes a hung job left.
  await Promise.race([prepared.sinks.close().catch(() => {}), sleep(CLOSE_GRACE_MS)]);
}

async function finish(prepared: Prepared): Promise<void> {
  // PGlite writes its data directory on close.
  await prepared.sinks.close();
  prepared.mocks.stop();
  await prepared.pool?.close();
}

/** Exits at once when done or failed: a timed-out invocation may leave requests and timers behind. */
function exit(code: number): never {
  process.exit(code);
}

function crash(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

// Whatever the job started (a handler's child processes) ends with the cell, as Lambda ends the
// whole environment; Node runs 'exit' listeners on process.exit, a handler's included.
process.on('exit', () => killDescendants(process.pid));
// The sweep is gone (killed, even with SIGKILL, which runs no handler of its): nobody will read
// what this process measures, so it stops at once instead of running on unowned.
process.on('disconnect', () => exit(1));

let job: CellJob | undefined;
let prepared: Prepared | undefined;
process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'prepare':
      job = message.job;
      prepareAndWarmUp(message.job)
        .then((ready) => {
          if (!ready) exit(0);
          prepared = ready;
          return send({ type: 'prepared' });
        })
        .catch(crash);
      break;
    case 'cell':
      measureCell(job!, prepared!, message.concurrency, message.reps ?? job!.reps).then((ok) => {
        if (!ok) exit(0);
      }, crash);
      break;
    case 'finish':
      finish(prepared!).then(() => exit(0), crash);
      break;
  }
});
void send({ type: 'ready' });
