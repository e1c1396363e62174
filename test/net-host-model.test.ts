import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namespaces, runFenced, skipNote } from './helpers/namespace.ts';
import { simulate } from '../harness/model/simulate.ts';
import { isCompleted, type Results } from '../harness/results/schema.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { runScript } from './helpers/cli.ts';
import { writeScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * Over real sockets the hosts behave as the host model says, as in process: the same draws give
 * the same 5xx, resets and timeouts, counted by the job; a rate limit answers 429 with a
 * Retry-After the job honours; a host that closes every connection costs a connection per attempt.
 */

skipNote('the host model over real sockets');

function sweep(scenario: ScenarioInput, args: string[]): Results {
  const { file, dir } = writeScenario(scenario, scratchDir('net-model'));
  const out = join(dir, 'results.json');
  const run = runScript('sweep', [file, '--reps', '1', '--memory', '1769', '--no-report', '--out', out, '--isolation', 'namespace', ...args], {
    timeoutMs: 120_000,
  });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Results;
}

const faulty: ScenarioInput = {
  name: 'faulty',
  seed: 5,
  requests: [{ host: 'flaky.example', count: 16 }, { url: 'http://plain.example/status' }],
  hosts: {
    'flaky.example': { latencyMs: { dist: 'fixed', value: 5 }, bodyBytes: { dist: 'fixed', value: 500 }, errorRate: 0.15, resetRate: 0.1, timeoutRate: 0.1 },
    'plain.example': { latencyMs: { dist: 'fixed', value: 5 }, bodyBytes: { dist: 'fixed', value: 500 } },
  },
  work: { parse: 'none' },
  sink: { latencyMs: { dist: 'fixed', value: 1 }, poolSize: 2, batchSize: 1 },
  client: { timeoutMs: 150, retries: 2, backoffMs: 5 },
  lambda: { timeoutS: 10 },
};

describe.runIf(runFenced)('the host model over real sockets', () => {
  it('gives the same 5xx, resets and timeouts as the simulator, on net and on msw alike', () => {
    const expected = simulate(scenarioSchema.parse(faulty), { concurrency: 2 });
    // The draws must actually exercise every fault, or the comparison proves little.
    expect(expected.errorsByKind.http5xx).toBeGreaterThan(0);
    expect(expected.errorsByKind.reset).toBeGreaterThan(0);
    expect(expected.errorsByKind.timeout).toBeGreaterThan(0);
    for (const backend of ['net', 'msw']) {
      const cell = sweep(faulty, ['--backend', backend, '--concurrency', '2']).cells[0]!;
      if (!isCompleted(cell)) throw new Error(`${backend}: ${cell.state} ${'error' in cell ? cell.error : ''}`);
      const rep = cell.reps[0]!;
      expect({ backend, errorsByKind: rep.errorsByKind, errors: rep.errors, retries: rep.retries }).toEqual({
        backend,
        errorsByKind: expected.errorsByKind,
        errors: expected.errors,
        retries: expected.retries,
      });
    }
  }, 120_000);

  it('answers over its rate limit with 429 and a Retry-After that the job waits out, losing nothing', () => {
    const limited: ScenarioInput = {
      ...faulty,
      name: 'limited',
      requests: [{ host: 'api.example', count: 8 }],
      hosts: { 'api.example': { latencyMs: { dist: 'fixed', value: 5 }, rateLimit: { rps: 20, burst: 2 } } },
      client: { timeoutMs: 2000, retries: 10, backoffMs: 5 },
    };
    const cell = sweep(limited, ['--backend', 'net', '--concurrency', '4']).cells[0]!;
    if (!isCompleted(cell)) throw new Error(`${cell.state} ${'error' in cell ? cell.error : ''}`);
    const rep = cell.reps[0]!;
    expect(rep.errors).toBe(0);
    expect(rep.errorsByKind.http429).toBeGreaterThan(0);
    // 8 requests through a bucket of 2 refilled at 20/s cannot finish before the 6th refill: 300 ms.
    expect(rep.durationMs).toBeGreaterThan(290);
  }, 120_000);

  it('opens a connection per attempt where the host closes each one, and one per worker where it keeps them alive', () => {
    const hosts = (keepAlive: boolean): ScenarioInput => ({
      ...faulty,
      name: `keep-alive-${keepAlive}`,
      requests: [{ host: 'site.example', count: 12 }],
      hosts: { 'site.example': { latencyMs: { dist: 'fixed', value: 5 }, keepAlive } },
      client: { timeoutMs: 5000, retries: 0 },
    });
    const kept = sweep(hosts(true), ['--backend', 'net', '--concurrency', '3']).cells[0]!;
    const closed = sweep(hosts(false), ['--backend', 'net', '--concurrency', '3']).cells[0]!;
    expect(kept.reps[0]!.connectionsOpened).toBe(3);
    expect(closed.reps[0]!.connectionsOpened).toBe(12);
  }, 120_000);

  it('keeps at most maxConnections open: a waiting connection is let in when an answered one is closed for it', () => {
    const crowded: ScenarioInput = {
      ...faulty,
      name: 'max-connections',
      requests: [{ host: 'small.example', count: 4 }],
      hosts: { 'small.example': { latencyMs: { dist: 'fixed', value: 100 }, maxConnections: 1 } },
      client: { timeoutMs: 5000, retries: 0 },
    };
    // Two workers, one connection at a time: each answer closes its connection for the waiting
    // worker, so the 4 requests run one after another (400 ms, where two at a time take 200), on
    // a new connection nearly every time (how many exactly depends on the client's pool).
    const cell = sweep(crowded, ['--backend', 'net', '--concurrency', '2']).cells[0]!;
    if (!isCompleted(cell)) throw new Error(`${cell.state} ${'error' in cell ? cell.error : ''}`);
    expect(cell.reps[0]!.connectionsOpened).toBeGreaterThanOrEqual(3);
    expect(cell.reps[0]!.errors).toBe(0);
    expect(cell.reps[0]!.durationMs).toBeGreaterThan(395);
    const unlimited = sweep({ ...crowded, hosts: { 'small.example': { latencyMs: { dist: 'fixed', value: 100 } } } }, [
      '--backend',
      'net',
      '--concurrency',
      '2',
    ]).cells[0]!;
    expect(unlimited.reps[0]!.connectionsOpened).toBe(2);
    expect(unlimited.reps[0]!.durationMs).toBeLessThan(380);
  }, 120_000);

  it("holds each new connection for the host's round trips: one for TCP and one for TLS", () => {
    const slowNetwork: ScenarioInput = {
      ...faulty,
      name: 'rtt',
      requests: [{ host: 'far.example', count: 2 }],
      hosts: { 'far.example': { latencyMs: { dist: 'fixed', value: 10 }, rttMs: 100 } },
      client: { timeoutMs: 2000, retries: 0 },
    };
    // Serially over one kept-alive https connection: 2 x 100 ms of setup once, then 2 x 10 ms.
    const cell = sweep(slowNetwork, ['--backend', 'net', '--concurrency', '1']).cells[0]!;
    expect(cell.reps[0]!.connectionsOpened).toBe(1);
    expect(cell.reps[0]!.durationMs).toBeGreaterThan(220);
    expect(cell.reps[0]!.durationMs).toBeLessThan(400);
  }, 120_000);
});
