import { afterEach, describe, expect, it } from 'vitest';
import type { MockBackend } from '../harness/mock/backend.ts';
import { createBackend } from '../harness/mock/choose-backend.ts';
import { simulate } from '../harness/model/simulate.ts';
import { scenarioSchema, type Scenario, type ScenarioInput } from '../harness/scenario/schema.ts';
import { ModelSink } from '../harness/workload/sink.ts';
import { retryAfterMs, runScraper } from '../harness/workload/scraper.ts';

let backend: MockBackend | undefined;
afterEach(() => backend?.stop());

async function replay(
  input: Omit<ScenarioInput, 'name'>,
  concurrency: number,
): Promise<{ scenario: Scenario; outcome: Awaited<ReturnType<typeof runScraper>> }> {
  const scenario = scenarioSchema.parse({ name: 'workload', ...input });
  backend = createBackend({ scenario, timeScale: 1 });
  backend.start();
  const outcome = await runScraper(scenario, { concurrency, timeScale: 1, sink: new ModelSink(scenario, 1) });
  return { scenario, outcome };
}

describe('the scraping job', () => {
  it.each(['fetch', 'undici'] as const)('fails and retries the same requests the simulator does, from the same draws, with %s', async (library) => {
    const { scenario, outcome } = await replay(
      {
        seed: 21,
        requests: [{ host: 'flaky.example', count: 40 }],
        hosts: { 'flaky.example': { latencyMs: { dist: 'fixed', value: 5 }, errorRate: 0.2, resetRate: 0.1 } },
        work: { parse: 'html' },
        sink: { latencyMs: { dist: 'fixed', value: 1 }, poolSize: 10 },
        client: { retries: 2, backoffMs: 5, timeoutMs: 2000, library },
      },
      8,
    );
    const simulated = simulate(scenario, { concurrency: 8 });
    expect(outcome.errorsByKind).toEqual(simulated.errorsByKind);
    expect(outcome.errors).toBe(simulated.errors);
    expect(outcome.retries).toBe(simulated.retries);
    expect(outcome.rowsWritten).toBe(40 - outcome.errors);
    expect(outcome.errorsByKind.http5xx + outcome.errorsByKind.reset).toBeGreaterThan(0);
  });

  it.each(['fetch', 'undici'] as const)('counts a request that times out on every attempt once as an error, with %s', async (library) => {
    const { outcome } = await replay(
      {
        seed: 1,
        requests: [{ host: 'hang.example', count: 2 }],
        hosts: { 'hang.example': { latencyMs: { dist: 'fixed', value: 1 }, timeoutRate: 1 } },
        client: { retries: 1, backoffMs: 10, timeoutMs: 100, library },
      },
      2,
    );
    expect(outcome.errorsByKind.timeout).toBe(4);
    expect(outcome.errors).toBe(2);
    expect(outcome.retries).toBe(2);
    // two attempts of 100 ms and a 10 ms wait
    expect(outcome.durationMs / 210).toBeGreaterThan(0.95);
    expect(outcome.durationMs / 210).toBeLessThan(1.6);
  });

  it.each(['fetch', 'undici'] as const)('waits what Retry-After says before retrying a 429, with %s', async (library) => {
    const { outcome } = await replay(
      {
        seed: 1,
        requests: [{ host: 'limited.example', count: 3 }],
        hosts: { 'limited.example': { latencyMs: { dist: 'fixed', value: 1 }, rateLimit: { rps: 10, burst: 1 } } },
        work: { parse: 'none' },
        sink: { latencyMs: { dist: 'fixed', value: 0 } },
        client: { retries: 5, backoffMs: 1, library },
      },
      3,
    );
    expect(outcome.errors).toBe(0);
    expect(outcome.errorsByKind.http429).toBeGreaterThanOrEqual(2);
    // 3 requests at 10 rps with a bucket of one need at least 200 ms.
    expect(outcome.durationMs).toBeGreaterThan(195);
  });

  it('takes as long as the simulator says with a capacity queue and a sink pool', async () => {
    const input = {
      seed: 4,
      requests: [{ host: 'q.example', count: 24 }],
      hosts: { 'q.example': { latencyMs: { dist: 'uniform', min: 40, max: 80 }, capacity: 3 } },
      work: { parse: 'none' },
      sink: { latencyMs: { dist: 'fixed', value: 10 }, poolSize: 1, batchSize: 2 },
    } satisfies Omit<ScenarioInput, 'name'>;
    const { scenario, outcome } = await replay(input, 6);
    const ideal = simulate(scenario, { concurrency: 6 }).makespanMs;
    expect(outcome.durationMs / ideal).toBeGreaterThan(0.97);
    expect(outcome.durationMs / ideal).toBeLessThan(1.25);
  });

  it('counts the attempts that found no file descriptor for their socket, as fetch and undici.request report them, among the resets', async () => {
    const scenario = scenarioSchema.parse({
      name: 'descriptors',
      seed: 1,
      requests: [{ host: 'api.example', count: 4 }],
      hosts: { 'api.example': { latencyMs: { dist: 'fixed', value: 1 } } },
      work: { parse: 'none' },
      client: { retries: 0 },
    });
    const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.2:443`), { code, syscall: 'connect' });
    // fetch wraps the system error as its cause; undici.request rejects with it; then a reset, and an answer.
    const failures = [new TypeError('fetch failed', { cause: systemError('EMFILE') }), systemError('EMFILE'), systemError('ECONNRESET')];
    let calls = 0;
    const outcome = await runScraper(scenario, {
      concurrency: 1,
      timeScale: 1,
      sink: new ModelSink(scenario, 1),
      get: async () => {
        const failure = failures[calls++];
        if (failure) throw failure;
        return { status: 200, text: '', retryAfterMs: 0 };
      },
    });
    expect(outcome.descriptorFailures).toBe(2);
    expect(outcome.errorsByKind).toEqual({ http5xx: 0, http429: 0, timeout: 0, reset: 3, other: 0 });
    expect(outcome.errors).toBe(3);
  });

  it('reads retry-after-ms first, then Retry-After seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '1' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers())).toBe(1000);
  });
});

describe('the model sink', () => {
  it('writes rows in batches and holds one connection per batch', async () => {
    const scenario = scenarioSchema.parse({
      name: 'sink',
      seed: 1,
      requests: [{ host: 'a.example', count: 1 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 } } },
      sink: { latencyMs: { dist: 'fixed', value: 40 }, poolSize: 1, batchSize: 2 },
    });
    const sink = new ModelSink(scenario, 1);
    const start = performance.now();
    const row = { url: 'u', title: 't', links: 0 };
    // Rows 1 and 3 do not fill a batch and return at once; rows 2 and 4 wait for theirs.
    await sink.write(row);
    const firstReturned = performance.now() - start;
    await Promise.all([sink.write(row), sink.write(row), sink.write(row)]);
    await sink.write(row);
    await sink.flush();
    const total = performance.now() - start;
    expect(sink.rowsWritten).toBe(5);
    expect(firstReturned).toBeLessThan(20);
    // Three batches (2 + 2 + 1 rows) through one connection: 120 ms.
    expect(total / 120).toBeGreaterThan(0.95);
    expect(total / 120).toBeLessThan(1.5);
  });
});
