import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedLookupMessage } from '../harness/mock/backend.ts';
import type { Cell, Results } from '../harness/results/schema.ts';
import { detectFunctionGroupController } from '../harness/run/cgroup.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { planRequests } from '../harness/scenario/plan.ts';
import { idealMakespanMs } from '../harness/model/simulate.ts';
import { runScriptAsync, type CliRun } from './helpers/cli.ts';
import { assertNamespaces, runFenced, skipNote } from './helpers/namespace.ts';
import { withFunction } from './helpers/lambda-function.ts';
import { startSentinel, type Sentinel } from './helpers/sentinel.ts';
import { writeScenario } from './helpers/scenario-files.ts';

/**
 * Deployed functions through the whole sweep (npm run sweep): a Node.js function from its SAM
 * template, and Python functions that run out of memory, raise, time out, write rows to
 * PostgreSQL, or try to reach past the scenario. Each runs in its own runtime process, fenced in
 * a network namespace, under memory and CPU cgroups; CI (FANOUT_REQUIRE_NAMESPACE=1,
 * FANOUT_REQUIRE_CGROUP=1) must never skip them.
 */

const controller = detectFunctionGroupController();
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
const runFunctions = runFenced && (controller !== undefined || requireCgroup);
if (!runFunctions) {
  skipNote('the function sweep tests');
  if (!controller)
    console.log(
      'skipping the function sweep tests: no writable cgroup memory and cpu controllers here (run as root on Linux; CI sets FANOUT_REQUIRE_CGROUP=1)',
    );
}

const databaseUrl = process.env.DATABASE_URL;
const requirePostgres = process.env.FANOUT_REQUIRE_POSTGRES === '1';
if (runFunctions && !databaseUrl && !requirePostgres) {
  console.warn('skipping the function sweep that writes to PostgreSQL: DATABASE_URL is not set (FANOUT_REQUIRE_POSTGRES=1 turns this into a failure)');
}

const FIXTURE = fileURLToPath(new URL('./fixtures/functions/python-sweep', import.meta.url));
const NODE_SCENARIO = fileURLToPath(new URL('../scenarios/function-node/function-node.json', import.meta.url));
const SWEEP_TIMEOUT_MS = 60_000;

function assertSupport(): void {
  assertNamespaces();
  expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup memory and cpu controllers were found').toBeDefined();
}

/** Four pages of ~5 ms from one host; the function is inline Python from the fixture directory. */
function pythonScenario(
  name: string,
  fn: { handler: string; event?: Record<string, unknown>; environment?: Record<string, string> },
  overrides: Partial<ScenarioInput> = {},
): ScenarioInput {
  return {
    name,
    seed: 5,
    requests: [{ host: 'site.example', count: 4 }],
    hosts: { 'site.example': { latencyMs: { dist: 'fixed', value: 5 }, bodyBytes: { dist: 'fixed', value: 1500 } } },
    work: { parse: 'html' },
    workload: {
      function: {
        runtime: 'python3.12',
        python: 'python3',
        handler: fn.handler,
        codeUri: FIXTURE,
        event: fn.event ?? {},
        environment: { MAX_WORKERS: '1', ...fn.environment },
      },
    },
    lambda: { timeoutS: 20 },
    ...overrides,
  };
}

const PAGES = [0, 1, 2, 3].map((i) => `https://site.example/page/${i}`);

interface Swept {
  run: CliRun;
  results: Results;
  cell: (concurrency: number) => Cell;
}

/** Sweeps the scenario over concurrency 1 and 4 (or those given) at one memory size, one repetition. */
async function sweep(scenario: ScenarioInput, memoryMb: number, args: string[] = [], concurrency = '1,4'): Promise<Swept> {
  const { file, dir } = writeScenario(scenario);
  const out = join(dir, 'out.json');
  try {
    const run = await runScriptAsync(
      'sweep',
      [file, '--concurrency', concurrency, '--memory', String(memoryMb), '--reps', '1', '--out', out, '--no-report', ...args],
      {
        timeoutMs: SWEEP_TIMEOUT_MS,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
    const cell = (concurrency: number) => {
      const found = results.cells.find((c) => c.concurrency === concurrency);
      expect(found, `no cell at concurrency ${concurrency}`).toBeDefined();
      return found!;
    };
    return { run, results, cell };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(runFunctions)('a Node.js function from its SAM template (scenarios/function-node)', () => {
  it('serves every request of both cells over new connections, and counts no rows for the model sink', { timeout: SWEEP_TIMEOUT_MS }, async () => {
    assertSupport();
    const dir = mkdtempSync(join(tmpdir(), 'fanout-function-node-'));
    try {
      const out = join(dir, 'out.json');
      const run = await runScriptAsync('sweep', [NODE_SCENARIO, '--concurrency', '2,8', '--memory', '512', '--reps', '1', '--out', out, '--no-report'], {
        timeoutMs: SWEEP_TIMEOUT_MS,
      });
      expect(run.code, run.stderr).toBe(0);
      const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
      expect(results.cells.map((cell) => [cell.concurrency, cell.state])).toEqual([
        [2, 'completed'],
        [8, 'completed'],
      ]);
      for (const cell of results.cells) {
        expect(cell.reps).toHaveLength(1);
        const [rep] = cell.reps;
        // The scenario plans 30 requests; the servers answered each once, none failed.
        expect(rep!.requests).toBe(30);
        expect(rep!.errors).toBe(0);
        expect(rep!.connectionsOpened).toBeGreaterThanOrEqual(3);
        expect(rep!.peakRssMb).toBeGreaterThan(10);
        // The default (model) sink: the function writes nowhere, and nothing is counted.
        expect(rep!.rowsWritten).toBeUndefined();
      }
      expect(results.method.cpuThrottle).toBe('cgroup');
      expect(results.method.isolation).toBe('namespace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(runFunctions)("a Python function that fails in one cell: the cell ends in Lambda's words and the sweep goes on", () => {
  it(
    'takes the duration the cgroup gave the function at 128 MB as it is, without stretching its CPU a second time',
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      // 250 ms of CPU at 7.2% of a core take about 3.5 s under the quota. Projecting that again with
      // the model for machines without cgroups (the CPU time x 1769/128) would add another 3.2 s.
      // One cell: the function burns the same whatever its concurrency, and each invocation at
      // 128 MB takes seconds.
      const { results, cell } = await sweep(pythonScenario('fn-burns', { handler: 'app.burns', event: { cpuMs: 250 } }), 128, [], '1');
      expect(results.method.cpuThrottle).toBe('cgroup');
      expect(results.method.notes.join(' ')).not.toMatch(/first-order model/);
      const burned = cell(1);
      if (burned.state !== 'completed') throw new Error(`${burned.state}: ${'error' in burned ? burned.error : ''}`);
      expect(burned.durationMs.median).toBeGreaterThan(3000);
      expect(burned.durationMs.median).toBeLessThan(6000);
    },
  );

  it(
    "takes its ideal makespan from the requests the warm-up saw the function make, not from the scenario's whole list",
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      // The scenario lists 4 pages of 5 ms, plus a slow one of 400 ms the function never asks for;
      // it fetches pages 2 and 0, in that order, one after the other.
      const scenario = pythonScenario(
        'fn-records',
        { handler: 'app.fetches', event: { urls: [PAGES[2], PAGES[0]] } },
        {
          requests: [{ host: 'site.example', count: 4 }, { url: 'https://slow.example/report' }],
          hosts: {
            'site.example': { latencyMs: { dist: 'fixed', value: 5 }, bodyBytes: { dist: 'fixed', value: 1500 } },
            'slow.example': { latencyMs: { dist: 'fixed', value: 400 } },
          },
        },
      );
      const { cell } = await sweep(scenario, 1769);
      const parsed = scenarioSchema.parse(scenario);
      const byUrl = new Map(planRequests(parsed).map((request) => [request.url, request]));
      const seen = [byUrl.get(PAGES[2]!)!, byUrl.get(PAGES[0]!)!];
      for (const concurrency of [1, 4]) {
        const fetched = cell(concurrency);
        if (fetched.state !== 'completed') throw new Error(`${fetched.state}: ${'error' in fetched ? fetched.error : ''}`);
        expect(fetched.idealMs).toBeCloseTo(idealMakespanMs(parsed, concurrency, seen), 6);
        // Two pages of 5 ms, not the 400 ms page the whole list would wait for.
        expect(fetched.idealMs).toBeLessThan(50);
        expect(idealMakespanMs(parsed, concurrency)).toBeGreaterThan(400);
      }
    },
  );

  it('ends as oom when the function holds 300 MB at 128 MB, and completes the other cell', { timeout: SWEEP_TIMEOUT_MS }, async () => {
    assertSupport();
    const { cell, results } = await sweep(pythonScenario('fn-oom', { handler: 'app.allocates', event: { mb: 300 } }), 128);
    expect(results.cells).toHaveLength(2);
    expect(cell(1).state).toBe('completed');
    const failed = cell(4);
    expect(failed.state).toBe('oom');
    expect('error' in failed ? failed.error : '').toMatch(/^the function ran out of memory \(limit 128 MB\)/);
    expect(results.warnings.some((warning) => warning.includes('ended as oom'))).toBe(true);
  });

  it(
    "ends as errored with the exception's type and message when the function raises, and completes the other cell",
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      const { cell, results } = await sweep(pythonScenario('fn-raises', { handler: 'app.raises' }), 256);
      expect(results.cells).toHaveLength(2);
      // At one worker it returns at once without a request: nothing to wait on, nothing to model.
      const quiet = cell(1);
      expect(quiet).toMatchObject({ state: 'completed', idealMs: 0, fidelityRatio: 1 });
      expect(quiet).not.toHaveProperty('modelError');
      const failed = cell(4);
      expect(failed.state).toBe('errored');
      expect('error' in failed ? failed.error : '').toBe('the function raised: RuntimeError: refusing to run 4 workers');
    },
  );

  it(
    "ends as errored, naming Lambda's quota, when the function starts more threads than Lambda's 1,024 processes and threads",
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      expect(controller?.holdsTasks, 'no pids controller holds a function group here').toBe(true);
      const { cell, results } = await sweep(pythonScenario('fn-threads', { handler: 'app.waits_on_threads', event: { tasks: 1100 } }), 1769);
      expect(cell(1).state).toBe('completed');
      const failed = cell(4);
      expect(failed.state).toBe('errored');
      expect('error' in failed ? failed.error : '').toBe(
        "the function raised: RuntimeError: can't start new thread (it reached Lambda's quota of 1024 processes and threads)",
      );
      expect(results.method.notes.join(' ')).toContain("The function's processes and threads together could number at most 1024");
    },
  );

  it('ends as timeout when the function sleeps past its 2 s timeout, and completes the other cell', { timeout: SWEEP_TIMEOUT_MS }, async () => {
    assertSupport();
    const began = Date.now();
    const { cell, results } = await sweep(pythonScenario('fn-sleeps', { handler: 'app.sleeps', event: { seconds: 30 } }, { lambda: { timeoutS: 2 } }), 256);
    expect(results.cells).toHaveLength(2);
    expect(cell(1).state).toBe('completed');
    const failed = cell(4);
    expect(failed.state).toBe('timeout');
    expect('error' in failed ? failed.error : '').toBe('an invocation ran longer than the function timeout (2 s)');
    // Stopped at the timeout, not after the 30 s sleep.
    expect(Date.now() - began).toBeLessThan(25_000);
  });

  it(
    'refuses a handler function its module does not define before any cell starts: exit 2, one line naming the field',
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      // The module is read with Python's own parser, not run: its code must not run before the fence is up.
      const { file, dir } = writeScenario(pythonScenario('fn-no-handler', { handler: 'app.no_such_function' }));
      try {
        const run = await runScriptAsync(
          'sweep',
          [file, '--concurrency', '1', '--memory', '256', '--reps', '1', '--out', join(dir, 'out.json'), '--no-report'],
          { timeoutMs: SWEEP_TIMEOUT_MS },
        );
        expect(run.code).toBe(2);
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/workload\.function\.handler: .*app\.py has no no_such_function \(it defines .*allocates.*\), so Lambda would fail at INIT/);
        expect(existsSync(join(dir, 'out.json'))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.runIf(databaseUrl || requirePostgres)(
    "counts the rows a completed cell wrote to PostgreSQL through the scenario's database endpoint",
    { timeout: SWEEP_TIMEOUT_MS },
    async () => {
      assertSupport();
      expect(databaseUrl, 'FANOUT_REQUIRE_POSTGRES=1 but DATABASE_URL is not set').toBeDefined();
      const url = new URL(databaseUrl!);
      const table = `fanout_function_rows_${process.pid}`;
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP TABLE IF EXISTS ${table}`);
        const scenario = pythonScenario(
          'fn-rows',
          {
            handler: 'app.writes_rows',
            event: { urls: PAGES },
            environment: {
              DB_HOST: 'db.example',
              DB_PORT: '5432',
              DB_USER: decodeURIComponent(url.username),
              DB_PASSWORD: decodeURIComponent(url.password),
              DB_NAME: url.pathname.slice(1),
              TABLE: table,
            },
          },
          { sink: { kind: 'postgres', url: 'env:DATABASE_URL', table, endpoint: 'db.example:5432', roundTripMs: { dist: 'fixed', value: 2 } } },
        );
        const { results } = await sweep(scenario, 512);
        expect(results.cells.map((cell) => cell.state)).toEqual(['completed', 'completed']);
        for (const cell of results.cells) {
          expect(cell.reps[0]!.rowsWritten).toBe(PAGES.length);
          expect(cell.reps[0]!.requests).toBe(PAGES.length);
        }
        // Each cell: one warm-up and one timed invocation, a row per page each time.
        const rows = await client.query<{ url: string; n: string }>(`SELECT url, count(*) AS n FROM ${table} GROUP BY url ORDER BY url`);
        expect(rows.rows.map((row) => [row.url, Number(row.n)])).toEqual(PAGES.map((page) => [page, 4]));
      } finally {
        await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
        await client.end();
      }
    },
  );
});

describe.runIf(runFunctions)("a Python function's own sockets and requests outside the scenario", () => {
  let sentinel: Sentinel;
  beforeAll(async () => {
    sentinel = await startSentinel();
  });
  afterAll(() => sentinel?.close());

  it('reach nothing on this machine, and the cell is errored naming the host it looked up', { timeout: SWEEP_TIMEOUT_MS }, async () => {
    assertSupport();
    sentinel.reset();
    const scenario = pythonScenario('fn-escapes', {
      handler: 'app.escapes',
      event: { port: sentinel.port, undefinedHost: 'nowhere.example', url: PAGES[0] },
    });
    const { cell, results } = await sweep(scenario, 256);
    // Give a late datagram or connection the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect({ connections: sentinel.connections, datagrams: sentinel.datagrams, tags: sentinel.tags() }).toEqual({ connections: 0, datagrams: 0, tags: [] });
    for (const concurrency of [1, 4]) {
      const swept = cell(concurrency);
      expect(swept.state).toBe('errored');
      expect('error' in swept ? swept.error : '').toBe(blockedLookupMessage(['nowhere.example']));
      // The scenario's own host still answered.
      expect(swept.reps[0]?.requests).toBe(1);
    }
    expect(results.cells).toHaveLength(2);
  });

  it('would have reached the sentinel: the same function outside a fence connects and sends to it', { timeout: SWEEP_TIMEOUT_MS }, async () => {
    sentinel.reset();
    // Every target is on this machine: the undefined host is the sentinel by name, the page a closed port.
    const event = { port: sentinel.port, undefinedHost: `localhost:${sentinel.port}`, url: 'http://127.0.0.1:1/' };
    await withFunction({ language: 'python', dir: 'python-sweep', handler: 'app.escapes', concurrency: 1 }, async (api) => {
      const result = await api.invoke(event, { timeoutMs: 10_000 });
      expect(result.state).toBe('completed');
      expect(result.state === 'completed' ? result.response : undefined).toEqual({
        tcp: 'sent',
        udp: 'sent',
        // The sentinel takes the request and hangs up without an answer.
        'loopback-http': 'ConnectionError',
        'undefined-host': 'ConnectionError',
        'scenario-host': 'ConnectionError',
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sentinel.datagrams).toBe(1);
    expect(sentinel.connections).toBe(3);
    expect(sentinel.tags()).toEqual(['hole-python-dns', 'hole-python-http', 'hole-python-tcp', 'hole-python-udp']);
  });
});
