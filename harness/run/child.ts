/**
 * A cell's child process: a fresh Node, like a fresh Lambda container. It waits for its job (so
 * the parent can first put it under a CPU quota), runs the warm-up and the timed invocations, and
 * reports each one as soon as it ends.
 */
import type { MockBackend } from '../mock/backend.ts';
import { createBackend } from '../mock/create.ts';
import { ModelSink } from '../workload/sink.ts';
import { runScraper, type InvocationOutcome } from '../workload/scraper.ts';
import type { CellJob, ChildMessage, ParentMessage, RepMeasurement } from './protocol.ts';
import { mainThreadCpuClock } from './thread-cpu.ts';
import { createParsePool, type ParsePool } from '../workload/parse-pool.ts';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

class InvocationTimeout extends Error {}

async function invokeWithin(job: CellJob, backend: MockBackend, pool: ParsePool | undefined): Promise<InvocationOutcome> {
  backend.beginInvocation();
  const sink = new ModelSink(job.scenario, job.timeScale);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeout()), job.invocationTimeoutMs / job.timeScale);
  });
  try {
    return await Promise.race([runScraper(job.scenario, { concurrency: job.concurrency, timeScale: job.timeScale, sink, ...(pool ? { pool } : {}) }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const loopCpu = mainThreadCpuClock();

async function run(job: CellJob): Promise<void> {
  const backend = createBackend({ scenario: job.scenario, timeScale: job.timeScale });
  backend.start();
  const threads = job.scenario.work.threads;
  const pool = threads > 0 && job.scenario.work.parse !== 'none' ? createParsePool(threads) : undefined;
  try {
    for (let i = 0; i < job.warmupInvocations; i++) await invokeWithin(job, backend, pool);
    for (let i = 0; i < job.reps; i++) {
      const loopBefore = loopCpu?.();
      const cpuBefore = process.cpuUsage();
      const outcome = await invokeWithin(job, backend, pool);
      const cpu = process.cpuUsage(cpuBefore);
      const loopCpuMs = loopCpu && loopBefore !== undefined ? loopCpu() - loopBefore : undefined;
      const rep: RepMeasurement = {
        durationMs: outcome.durationMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(loopCpuMs !== undefined ? { loopCpuMs } : {}),
        mockCpuMs: backend.mockCpuMs(),
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        requests: outcome.requests,
        errors: outcome.errors,
        retries: outcome.retries,
        errorsByKind: outcome.errorsByKind,
        requestLatenciesMs: outcome.requestLatenciesMs,
        unmockedRequests: [...backend.unmockedRequests()],
        mockFailures: [...backend.mockFailures()],
      };
      await send({ type: 'rep', rep });
    }
    await send({ type: 'done' });
  } catch (error) {
    if (error instanceof InvocationTimeout) await send({ type: 'timeout', afterMs: job.invocationTimeoutMs });
    else await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  } finally {
    backend.stop();
    await pool?.close();
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
