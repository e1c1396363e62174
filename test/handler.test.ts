import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAMBDA_FILE_DESCRIPTORS, lambdaNodeHeap } from '../harness/model/lambda.ts';
import { fileDescriptorQuotaApplies } from '../harness/run/lambda-quotas.ts';
import { simulate } from '../harness/model/simulate.ts';
import { loadResults } from '../harness/results/io.ts';
import { isCompleted } from '../harness/results/schema.ts';
import { loadScenario } from '../harness/scenario/load.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { quickScenario, writeScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

const FIXTURES = resolve('test/fixtures/handlers');

function scratchOut(): string {
  return join(scratchDir('handler'), 'results.json');
}

/** A scenario in a temporary directory whose workload names a fixture by a path relative to it. */
function scenarioWithFixture(fixture: string, exportName = 'handler', overrides: Parameters<typeof quickScenario>[0] = {}): string {
  const dir = scratchDir('handler-scenario');
  return writeScenario(quickScenario({ workload: { module: relative(dir, join(FIXTURES, fixture)), export: exportName }, ...overrides }), dir).file;
}

describe("a sweep of the user's own handler", () => {
  it.each([
    ['fetch', 'scenarios/handler-fetch.json'],
    ['axios', 'scenarios/handler-axios.json'],
    ['undici', 'scenarios/handler-undici.json'],
  ])('measures the example %s handler end to end, counting its requests on the mock side', (_client, scenarioFile) => {
    const out = scratchOut();
    const run = runScript('sweep', [scenarioFile, '--concurrency', '1,4', '--reps', '1', '--out', out, '--no-report']);
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);

    const results = loadResults(out);
    const scenario = loadScenario(scenarioFile);
    expect(results.method.backend).toBe('msw+undici');
    expect(results.method.notes.some((note) => note.includes('The job is your handler'))).toBe(true);
    expect(results.cells.map((cell) => [cell.concurrency, cell.state])).toEqual([
      [1, 'completed'],
      [4, 'completed'],
    ]);
    const [serial, parallel] = results.cells.filter(isCompleted);
    for (const cell of [serial!, parallel!]) {
      // The handler reports nothing: requests, retries and failures are what the mock served,
      // and they follow the scenario's draws exactly as the simulator's client does.
      const simulated = simulate(scenario, { concurrency: cell.concurrency });
      expect(cell.reps[0]!.requests).toBe(24);
      expect(cell.errorsByKind).toEqual(simulated.errorsByKind);
      expect(cell.retries).toBe(simulated.retries);
      expect(cell.errorRate).toBe(0);
      expect(cell.requestLatencyMs.histogram.counts.reduce((a, b) => a + b, 0)).toBe(24);
    }
    // Four workers (MAX_WORKERS=4) fetch the 24 pages several times faster than one.
    expect(serial!.durationMs.median / parallel!.durationMs.median).toBeGreaterThan(2);
  });
});

describe('a handler the sweep cannot use', () => {
  function refused(file: string): { stderr: string; out: string } {
    const out = scratchOut();
    const run = runScript('sweep', [file, '--concurrency', '1', '--reps', '1', '--out', out, '--no-report']);
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    return { stderr: run.stderr, out };
  }

  it('is refused before the sweep starts when its module does not exist, naming workload.module', () => {
    const file = scenarioWithFixture('no-such-handler.ts');
    const { stderr } = refused(file);
    expect(stderr).toContain(`error: ${file}: workload.module: no such module ${join(FIXTURES, 'no-such-handler.ts')}`);
  });

  it('is refused when the module has no such export, naming workload.export and the functions it has', () => {
    const file = scenarioWithFixture('throws.ts', 'main');
    const { stderr } = refused(file);
    expect(stderr).toContain(`${file}: workload.export: `);
    expect(stderr).toContain('has no exported function "main" (its functions: handler)');
    expect(stderr).toContain('Fix: set "export" to one of "handler"');
  });

  it('is refused when the module fails while loading, with its own message', () => {
    const { stderr } = refused(scenarioWithFixture('fails-to-load.ts'));
    expect(stderr).toMatch(/workload\.module: .*fails-to-load\.ts cannot be loaded \(CONFIG_BUCKET is not set\)/);
  });
});

describe('hostile handlers', () => {
  it('end their own cell as errored or timeout with the cause, and the sweep goes on to the next cell', () => {
    const out = scratchOut();
    // by-concurrency.ts misbehaves by MAX_WORKERS: 2 throws, 3 hangs, 4 never settles, 5 calls an unlisted host.
    const file = scenarioWithFixture('by-concurrency.ts', 'handler', { lambda: { timeoutS: 1 } });
    const run = runScript('sweep', [file, '--concurrency', '1,2,3,4,5,6', '--reps', '1', '--out', out, '--no-report']);
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);

    const cells = loadResults(out).cells;
    expect(cells.map((cell) => [cell.concurrency, cell.state])).toEqual([
      [1, 'completed'],
      [2, 'errored'],
      [3, 'timeout'],
      [4, 'timeout'],
      [5, 'errored'],
      [6, 'completed'],
    ]);
    const errorOf = (concurrency: number) => {
      const cell = cells.find((c) => c.concurrency === concurrency);
      return cell && 'error' in cell ? cell.error : '';
    };
    expect(errorOf(2)).toBe('the handler threw: the upstream API key is missing');
    expect(errorOf(3)).toBe('an invocation ran longer than the function timeout (1 s)');
    expect(errorOf(4)).toBe('an invocation ran longer than the function timeout (1 s)');
    expect(errorOf(5)).toContain('request to https://telemetry.unlisted.invalid/v1/events was blocked');
    expect(cells[5]!.reps[0]!.requests).toBe(8);
  });
});

describe("a handler's Node process", () => {
  it.runIf(fileDescriptorQuotaApplies() || process.env.CI)("may hold no more than Lambda's 1,024 file descriptors", () => {
    const out = scratchOut();
    const run = runScript('sweep', [scenarioWithFixture('opens-files.ts'), '--concurrency', '1', '--reps', '1', '--out', out, '--no-report']);
    expect(run.code).toBe(0);
    const results = loadResults(out);
    expect(results.method.notes).toContain(
      "Each cell's process could hold at most 1024 open file descriptors at once, Lambda's quota: a job that keeps more sockets or files open fails with EMFILE, as it would on Lambda.",
    );
    const [cell] = results.cells;
    const reported = /^the handler threw: EMFILE after (\d+) files$/.exec(cell && 'error' in cell ? cell.error : '');
    expect(reported, JSON.stringify(cell)).not.toBeNull();
    // The harness's own descriptors (modules, IPC, stdio) count too, as the runtime's do on Lambda.
    expect(Number(reported![1])).toBeLessThan(LAMBDA_FILE_DESCRIPTORS);
    expect(Number(reported![1])).toBeGreaterThan(LAMBDA_FILE_DESCRIPTORS - 100);
  });

  it('starts a JavaScript handler as plain Node, without the TypeScript loader, and a TypeScript one with it', () => {
    const started = (fixture: string) => {
      const out = scratchOut();
      const run = runScript('sweep', [scenarioWithFixture(fixture), '--concurrency', '1', '--memory', '128', '--reps', '1', '--out', out, '--no-report']);
      expect(run.code, run.stderr).toBe(0);
      const [cell] = loadResults(out).cells;
      return cell && 'error' in cell ? cell.error : JSON.stringify(cell);
    };
    expect(started('reports-its-loader.mjs')).toBe('the handler threw: started as plain Node');
    // The same handler as TypeScript needs the loader to be imported at all.
    expect(started('reports-its-loader.ts')).toBe('the handler threw: started with the TypeScript loader');
  });

  it("runs with the heap Lambda's Node runtime gives each memory size, and gc() exposed", () => {
    const out = scratchOut();
    const run = runScript('sweep', [
      scenarioWithFixture('reports-its-heap.ts'),
      '--concurrency',
      '1',
      '--memory',
      '128,1024',
      '--reps',
      '1',
      '--out',
      out,
      '--no-report',
    ]);
    expect(run.code).toBe(0);
    const results = loadResults(out);
    expect(results.method.notes).toContain(
      "Each cell's process ran Node with the flags Lambda's Node.js runtime gives the memory size: a young generation of a tenth of it (two semi-spaces of a twentieth), the rest for the old space, and gc() exposed.",
    );
    const cells = results.cells;
    expect(cells.map((cell) => cell.memoryMb)).toEqual([128, 1024]);
    for (const cell of cells) {
      const reported = /^the handler threw: heap limit (\d+) MB, gc function$/.exec('error' in cell ? cell.error : '');
      expect(reported, JSON.stringify(cell)).not.toBeNull();
      // V8's limit is the old space (116 MB at 128, 922 at 1024) and the young generation, a few
      // semi-spaces (6 MB at 128, 51 at 1024); without Lambda's flags it is about 4 GB at every size.
      const { oldSpaceMb, semiSpaceMb } = lambdaNodeHeap(cell.memoryMb);
      expect(Number(reported![1])).toBeGreaterThanOrEqual(oldSpaceMb + 2 * semiSpaceMb);
      expect(Number(reported![1])).toBeLessThanOrEqual(oldSpaceMb + 8 * semiSpaceMb);
    }
  });
});
