/**
 * One measurement of the overhead benchmark in a fresh process: only the harness measured is
 * loaded (its modules count in the peak RSS), one untimed warm-up at the same concurrency with
 * instant answers, then the timed invocations.
 */
import { getHeapStatistics } from 'node:v8';
import { overheadScenario, type OverheadMeasurement, type OverheadRep, type OverheadSpec } from './overhead-spec.ts';
import { idealOverheadMs } from './overhead-spec.ts';

/** Enough to warm the JIT up; fewer at low concurrency, where each instant answer still waits for a 1 ms timer. */
function warmupRequests(spec: OverheadSpec): number {
  return Math.min(3000, 300 * spec.concurrency);
}

/** A mock answering the bench's host until stopped. */
interface RunningMock {
  stop(): void;
  beginInvocation(): void;
  /** The mock's own CPU since the last invocation began, ms; undefined for a mock that does not measure it. */
  mockCpuMs(): number | undefined;
}

async function mockFor(spec: OverheadSpec, latencyMs: number, requests: number): Promise<RunningMock> {
  if (spec.harness === 'naive-mock') {
    const { startNaiveMock } = await import('./naive.ts');
    const stop = startNaiveMock(latencyMs, spec.bodyBytes);
    return { stop, beginInvocation: () => undefined, mockCpuMs: () => undefined };
  }
  const scenario = overheadScenario({ ...spec, latencyMs, requests });
  // Import only the backend measured: its modules count in the peak RSS.
  const backend =
    spec.harness === 'msw'
      ? new (await import('../mock/msw-backend.ts')).MswBackend({ scenario, timeScale: 1 })
      : new (await import('../mock/undici-backend.ts')).UndiciBackend({ scenario, timeScale: 1 });
  backend.start();
  return backend;
}

/** The built-in job (the scraper, global fetch or undici.request as the harness's client) against the harness's mock. */
async function builtIn(spec: OverheadSpec): Promise<OverheadRep[]> {
  const { runScraper } = await import('../workload/scraper.ts');
  const { ModelSink } = await import('../workload/sink.ts');
  // The warm-up: the same code paths at the same concurrency, answered at once.
  const warmup = overheadScenario({ ...spec, latencyMs: 0, requests: warmupRequests(spec) });
  const warmMock = await mockFor(spec, 0, warmupRequests(spec));
  try {
    await runScraper(warmup, { concurrency: spec.concurrency, timeScale: 1, sink: new ModelSink(warmup, 1) });
  } finally {
    warmMock.stop();
  }
  const reps: OverheadRep[] = [];
  const scenario = overheadScenario(spec);
  const mock = await mockFor(spec, spec.latencyMs, spec.requests);
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

async function naive(spec: OverheadSpec): Promise<OverheadRep[]> {
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

process.once('message', (spec: OverheadSpec) => {
  (spec.harness === 'naive' ? naive(spec) : builtIn(spec)).then(
    (reps) => {
      const measurement: OverheadMeasurement = {
        spec,
        idealMs: idealOverheadMs(spec),
        reps,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20,
      };
      process.send!(measurement, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
