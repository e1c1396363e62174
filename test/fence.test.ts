import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResults } from '../harness/results/io.ts';
import { isCompleted, type Results } from '../harness/results/schema.ts';
import type { ScenarioInput } from '../harness/scenario/schema.ts';
import { HOLES } from './fixtures/handlers/escape-hatches.ts';
import { runScriptAsync } from './helpers/cli.ts';
import { assertNamespaces, runFenced, skipNote } from './helpers/namespace.ts';
import { startSentinel, type Sentinel } from './helpers/sentinel.ts';
import { writeScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * The fence, end to end: a handler tries every way past the mocks it can (named imports of Node's
 * clients, undici objects of its own, raw TCP/TLS/HTTP2 sockets, UDP, a Worker, a child process)
 * towards a sentinel on the test's own 127.0.0.1. Fenced, the sentinel hears nothing and the cell
 * completes; unfenced, the same handler reaches it, which shows the sentinel can hear.
 */

const HANDLER = resolve('test/fixtures/handlers/escape-hatches.ts');
const PAGES = 3;
/** No in-process mock can catch these: raw sockets, UDP, another thread, another process. */
const BEYOND_ANY_MOCK = ['net-connect', 'tls-connect', 'http2-connect', 'dgram-send', 'worker-fetch', 'child-process'].map((hole) => `hole-${hole}`);

skipNote('the fence tests');

function escapeScenario(): string {
  const dir = scratchDir('fence');
  const scenario: ScenarioInput = {
    name: 'escape-hatches',
    seed: 5,
    requests: [{ host: 'site.example', count: PAGES }],
    hosts: { 'site.example': { latencyMs: { dist: 'fixed', value: 2 }, bodyBytes: { dist: 'fixed', value: 500 } } },
    work: { parse: 'none' },
    sink: { latencyMs: { dist: 'fixed', value: 1 }, poolSize: 2, batchSize: 1 },
    workload: { module: relative(dir, HANDLER), export: 'handler' },
    lambda: { timeoutS: 20 },
  };
  return writeScenario(scenario, dir).file;
}

describe.runIf(runFenced)('a fenced cell reaches nothing outside its namespace', () => {
  let sentinel: Sentinel;
  let scenarioFile: string;

  beforeAll(async () => {
    assertNamespaces();
    sentinel = await startSentinel();
    scenarioFile = escapeScenario();
  });

  afterAll(async () => {
    await sentinel?.close();
  });

  async function sweep(extra: string[]): Promise<Results> {
    sentinel.reset();
    const out = join(scratchDir('fence-out'), 'results.json');
    const run = await runScriptAsync('sweep', [scenarioFile, '--concurrency', '2', '--memory', '1769', '--reps', '1', '--no-report', '--out', out, ...extra], {
      env: { FANOUT_SENTINEL_PORT: String(sentinel.port) },
    });
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);
    // A connection accepted just before the sweep ended is read a moment later.
    await new Promise((done) => setTimeout(done, 400));
    return loadResults(out);
  }

  function expectCompletedWithPages(results: Results): void {
    expect(results.cells.map((cell) => cell.state)).toEqual(['completed']);
    const cell = results.cells.filter(isCompleted)[0]!;
    expect(cell.reps.map((rep) => [rep.requests, rep.errors])).toEqual([[PAGES, 0]]);
  }

  it('with --isolation namespace the sentinel sees no connection and no datagram, and the cell completes', async () => {
    const results = await sweep(['--isolation', 'namespace']);
    expect({ connections: sentinel.connections, datagrams: sentinel.datagrams, tags: sentinel.tags() }).toEqual({ connections: 0, datagrams: 0, tags: [] });
    expect(results.method.isolation).toBe('namespace');
    expectCompletedWithPages(results);
  });

  it('with --backend net and --isolation namespace the sentinel sees nothing, and the pages come from the servers in the namespace', async () => {
    const results = await sweep(['--isolation', 'namespace', '--backend', 'net']);
    expect({ connections: sentinel.connections, datagrams: sentinel.datagrams, tags: sentinel.tags() }).toEqual({ connections: 0, datagrams: 0, tags: [] });
    expect([results.method.isolation, results.method.backend]).toEqual(['namespace', 'net']);
    expectCompletedWithPages(results);
  });

  it('with --isolation none the same handler reaches the sentinel, through at least every hole no in-process mock can close', async () => {
    const results = await sweep(['--isolation', 'none']);
    expect(results.method.isolation).toBe('none');
    expectCompletedWithPages(results);
    expect(sentinel.connections).toBeGreaterThan(0);
    expect(sentinel.datagrams).toBeGreaterThan(0);
    expect(sentinel.tags()).toEqual(expect.arrayContaining(BEYOND_ANY_MOCK));
    // Every tag the sentinel heard is one of the handler's holes.
    expect(sentinel.tags().filter((tag) => !HOLES.map((hole) => `hole-${hole}`).includes(tag))).toEqual([]);
    console.log(`unfenced, the sentinel heard: ${sentinel.tags().join(', ')} (${sentinel.connections} connections, ${sentinel.datagrams} datagrams)`);
  });
});
