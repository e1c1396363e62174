/**
 * One measurement of the overhead benchmark in a fresh process: only the harness measured is
 * loaded (its modules count in the peak RSS), one untimed warm-up at the same concurrency with
 * instant answers, then the timed invocations.
 */
import { getHeapStatistics } from 'node:v8';
import type { Scenario } from '../scenario/schema.ts';
import { warmupRequests, type OverheadChildResult, type OverheadRep, type OverheadTask } from './overhead-spec.ts';

/** A mock answering the bench's host until stopped. */
interface RunningMock {
  stop(): void;
  beginInvocation(): void;
  /** The mock's own CPU since the last invocation began, ms; undefined for a mock that does not measure it. */
  mockCpuMs(): number | undefined;
}

/** The harness's mock for `scenario`, whose one host answers after `latencyMs`. */
async function mockFor(task: OverheadTask, scenario: Scenario, latencyMs: number): Promise<RunningMock> {
  const { spec } = task;
  if (spec.harness === 'naive-mock') {
    const { startNaiveMock } = await import('./naive.ts');
    const stop = startNaiveMock(latencyMs, spec.bodyBytes);
    return { stop, beginInvocation: () => undefined, mockCpuMs: () => undefined };
  }
  // Import only the backend measured: its modules count in the peak RSS.
  const backend =
    spec.harness === 'msw'
      ? new (await import('../mock/msw-backend.ts')).MswBackend({ scenario, timeScale: 1 })
      : new (await import('../mock/undici-backend.ts')).UndiciBackend({ scenario, timeScale: 1 });
  backend.start();
  return backend;
}

/** The built-in job (the scraper, global fetch or undici.request as the harness's client) against the harness's mock. */
async function builtIn(task: OverheadTask): Promise<OverheadRep[]> {
  const { spec, scenario, warmup } = task;
  const { runScraper } = await import('../workload/scraper.ts');
  const { ModelSink } = await import('../workload/sink.ts');
  // The warm-up: the same code paths at the same concurrency, answered at once.
  const warmMock = await mockFor(task, warmup, 0);
  try {
    await runScraper(warmup, { concurrency: spec.concurrency, timeScale: 1, sink: new ModelSink(warmup, 1) });
  } finally {
    warmMock.stop();
  }
  const reps: OverheadRep[] = [];
  const mock = await mockFor(task, scenario, spec.latencyMs);
  try {
    for (let i = 0; i < spec.reps; i++) {
      mock.beginInvocation();
      const before = process.cpuUsage();
      const outcome = await runScraper(scenario, { concurrency: spec.concurrency, timeScale: 1, sink: new ModelSink(scenario, 1) });
      const cpu = process.cpuUsage(before);
      reps.push({ durationMs: outcome.durationMs, cpuMs: (cpu.user + cpu.system) / 1000, mockCpuMs: mock.mockCpuMs(), errors: outcome.errors });
    }
  } finally {
    mock.stop();
  }
  return reps;
}

async function naive(task: OverheadTask): Promise<OverheadRep[]> {
  const { spec } = task;
  const { runNaiveJob, startNaiveMock } = await import('./naive.ts');
  const stopWarm = startNaiveMock(0, spec.bodyBytes);
  await runNaiveJob(warmupRequests(spec), spec.concurrency);
  stopWarm();
  const stop = startNaiveMock(spec.latencyMs, spec.bodyBytes);
  const reps: OverheadRep[] = [];
  try {
    for (let i = 0; i < spec.reps; i++) {
      const before = process.cpuUsage();
      const outcome = await runNaiveJob(spec.requests, spec.concurrency);
      const cpu = process.cpuUsage(before);
      reps.push({ ...outcome, cpuMs: (cpu.user + cpu.system) / 1000, mockCpuMs: undefined });
    }
  } finally {
    stop();
  }
  return reps;
}

// The bench is gone (even killed with SIGKILL): nobody will read the measurement.
process.on('disconnect', () => process.exit(1));

process.once('message', (task: OverheadTask) => {
  (task.spec.harness === 'naive' ? naive(task) : builtIn(task)).then(
    (reps) => {
      const result: OverheadChildResult = {
        reps,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20,
      };
      process.send!(result, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
