import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { loadScenario, parseScenario, scenarioHash } from '../harness/scenario/load.ts';
import { drawAttempt, drawSinkLatency } from '../harness/scenario/plan.ts';
import { LIMITS, type ScenarioInput } from '../harness/scenario/schema.ts';
import { hasStackTrace } from './helpers/cli.ts';
import { quickScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

const dir = scratchDir('limits');

const HOST = 'site.example';
const host = quickScenario().hosts[HOST]!;

/** The absurd sizes that used to hang a sweep, exhaust its memory or overflow a timer, and the field each is refused by. */
const ABSURD: [string, ScenarioInput, string][] = [
  ['count 1e9', quickScenario({ requests: [{ host: HOST, count: 1e9 }] }), 'requests[0].count: must be at most 100,000 (requests of one invocation)'],
  [
    'bodyBytes 1e12',
    quickScenario({ hosts: { [HOST]: { ...host, bodyBytes: { dist: 'fixed', value: 1e12 } } } }),
    `hosts.${HOST}.bodyBytes.value: must be at most 16,777,216 (16 MiB per response body)`,
  ],
  [
    'a latency of 3e9 ms',
    quickScenario({ hosts: { [HOST]: { ...host, latencyMs: { dist: 'lognormal', median: 100, p99: 3e9 } } } }),
    `hosts.${HOST}.latencyMs.p99: must be at most 900,000 (Lambda's 900 s limit, in ms)`,
  ],
  ['timeoutMs 1e10', quickScenario({ client: { timeoutMs: 1e10 } }), "client.timeoutMs: must be at most 900,000 (Lambda's 900 s limit, in ms)"],
  ['reps 2500', quickScenario({ sweep: { reps: 2500 } }), 'sweep.reps: must be at most 100 (timed repetitions per cell)'],
  [
    'retries 1e7 with errorRate 1',
    quickScenario({ client: { retries: 1e7 }, hosts: { [HOST]: { ...host, errorRate: 1 } } }),
    'client.retries: must be at most 10 (retries of one request)',
  ],
  [
    'groups adding up past the cap',
    quickScenario({
      requests: [
        { host: HOST, count: 60_000 },
        { host: HOST, count: 60_000 },
      ],
    }),
    'requests: must add up to at most 100,000 requests of one invocation (they add up to 120,000)',
  ],
  [
    'a rate limit of one request a year',
    quickScenario({ hosts: { [HOST]: { ...host, rateLimit: { rps: 1 / 31_536_000 } } } }),
    `hosts.${HOST}.rateLimit.rps: must be at least 0.001 (one request per 1000 s)`,
  ],
  [
    'a grid of 101 concurrencies',
    quickScenario({ sweep: { concurrency: Array.from({ length: 101 }, (_, i) => i + 1) } }),
    'sweep.concurrency: must list at most 100 concurrencies',
  ],
];

function runSweep(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const began = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/sweep.ts', ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - began }));
  });
}

describe('scenario limits', () => {
  it.each(ABSURD)('refuses %s, naming the field and the bound', (_what, scenario, message) => {
    expect(() => parseScenario(scenario, 'absurd.json')).toThrow(InputError);
    expect(() => parseScenario(scenario, 'absurd.json')).toThrow(`absurd.json: ${message}`);
  });

  it('accepts every bound itself', () => {
    const atTheBounds = quickScenario({
      requests: [{ host: HOST, count: LIMITS.requests }],
      hosts: {
        [HOST]: {
          ...host,
          latencyMs: { dist: 'uniform', min: 0, max: LIMITS.timeMs },
          bodyBytes: { dist: 'fixed', value: LIMITS.bodyBytes },
          rateLimit: { rps: LIMITS.rps.min },
        },
      },
      client: { timeoutMs: LIMITS.timeMs, retries: LIMITS.retries, backoffMs: LIMITS.timeMs },
      sweep: { reps: LIMITS.reps, timeScale: LIMITS.timeScale },
    });
    expect(() => parseScenario(atTheBounds, 'bounds.json')).not.toThrow();
    // The longest wait the client can be told to make still fits a timer.
    expect(LIMITS.timeMs * 2 ** LIMITS.retries).toBeLessThan(2 ** 31);
  });

  it("caps draws from a distribution's tail at the bounds, leaving every other draw as it was", () => {
    const tail = parseScenario(
      quickScenario({
        hosts: {
          [HOST]: {
            ...host,
            latencyMs: { dist: 'lognormal', median: 1, p99: LIMITS.timeMs },
            bodyBytes: { dist: 'normal', mean: LIMITS.bodyBytes, sd: LIMITS.bodyBytes },
          },
        },
        sink: { latencyMs: { dist: 'normal', mean: LIMITS.timeMs, sd: LIMITS.timeMs }, poolSize: 2, batchSize: 1 },
      }),
      'tail.json',
    );
    const draws = Array.from({ length: 2000 }, (_, index) => drawAttempt(tail, HOST, index, 0));
    expect(Math.max(...draws.map((draw) => draw.latencyMs))).toBe(LIMITS.timeMs);
    expect(Math.max(...draws.map((draw) => draw.bodyBytes))).toBe(LIMITS.bodyBytes);
    expect(Math.max(...Array.from({ length: 200 }, (_, batch) => drawSinkLatency(tail, batch)))).toBe(LIMITS.timeMs);
    // A draw under the bound is not touched: the seed's first request is as it always was.
    const seed = loadScenario('scenarios/seed-case-study.json');
    expect(drawAttempt(seed, 'news.example', 0, 0)).toEqual(drawAttempt({ ...seed }, 'news.example', 0, 0));
  });

  // The hashes before the bounds existed: results, journals and CI comparisons match on them. A
  // deliberate edit of one of these scenarios changes its hash, and this line with it.
  it('leaves the hash of every bundled scenario as it was', () => {
    expect(scenarioHash(loadScenario('scenarios/seed-case-study.json'))).toBe('sha256:8888bff5fdc599194c90a438ff4673e8eaf91d0b994aa19ac628ddd37f98c4f3');
    expect(scenarioHash(loadScenario('scenarios/small-fast.json'))).toBe('sha256:2c5a9082172c66e7f7c0cf6d9a07e40bc4915991c9ace1394f2dc538177af4f0');
    expect(scenarioHash(loadScenario('scenarios/rate-limited.json'))).toBe('sha256:456057d7f91b30e5921d14b83935dbd0a9aab02b5740904031834d8a83af406a');
  });
});

describe('npm run sweep on absurd sizes', () => {
  it('exits 2 at once with one line naming the field, and writes nothing', async () => {
    const runs: { what: string; message: string; file: string; code: number | null; stderr: string; ms: number }[] = [];
    // Three at a time: the timing says "before any work", not how busy a shared machine is.
    for (let first = 0; first < ABSURD.length; first += 3) {
      runs.push(
        ...(await Promise.all(
          ABSURD.slice(first, first + 3).map(async ([what, scenario, message], offset) => {
            const file = join(dir, `absurd-${first + offset}.json`);
            writeFileSync(file, JSON.stringify(scenario));
            return { what, message, file, ...(await runSweep([file, '--out', join(dir, 'out', `absurd-${first + offset}.json`), '--isolation', 'none'])) };
          }),
        )),
      );
    }
    for (const { what, message, file, code, stderr, ms } of runs) {
      expect({ what, code, stderr }).toEqual({
        what,
        code: 2,
        stderr: `error: ${file}: ${message}. Fix: see schema/scenario.schema.json for the allowed fields and values\n`,
      });
      // Alone on an idle machine each exits within the CLI's start-up time (under a second); before
      // the bounds these ran until they hung or ran out of memory.
      expect(ms).toBeLessThan(20_000);
    }
    expect(readdirSync(dir).filter((name) => name === 'out')).toEqual([]);
  }, 90_000);

  it('refuses flags past the same bounds', async () => {
    const file = join(dir, 'quick.json');
    writeFileSync(file, JSON.stringify(quickScenario()));
    const cases: [string[], string][] = [
      [['--reps', '2500'], 'error: --reps: "2500" is not a whole number from 1 to 100. Fix: pass for example --reps 1\n'],
      [['--time-scale', '5000'], 'error: --time-scale: "5000" is not a number from 1 to 1000. Fix: pass for example --time-scale 1\n'],
      [
        ['--concurrency', Array.from({ length: 101 }, (_, i) => i + 1).join(',')],
        'error: --concurrency: lists 101 values, more than 100. Fix: give at most 100 values\n',
      ],
      [['--out', dir], `error: ${dir}: --out: is a directory. Fix: name the results file to write, such as ${join(dir, 'results.json')}\n`],
    ];
    const runs = await Promise.all(cases.map(([flags]) => runSweep([file, ...flags, '--isolation', 'none'])));
    runs.forEach(({ code, stderr }, i) => {
      expect(hasStackTrace(stderr)).toBe(false);
      expect({ flags: cases[i]![0][0], code, stderr }).toEqual({ flags: cases[i]![0][0], code: 2, stderr: cases[i]![1] });
    });
  }, 60_000);
});
