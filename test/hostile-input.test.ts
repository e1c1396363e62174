import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { importHar, summariseHosts } from '../harness/scenario/har.ts';
import { parseScenario } from '../harness/scenario/load.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';

/**
 * Whatever a user feeds the tool, it either works or says what is wrong (an InputError with a
 * message); it never fails with a TypeError or a stack trace.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtureDir = [resolve(repoRoot, '../shared/fixtures/har'), resolve(repoRoot, '../../shared/fixtures/har')].find((dir) =>
  existsSync(join(dir, 'http2-firefox.har')),
);

type Outcome = { kind: 'valid' } | { kind: 'refused'; message: string };

/** Runs `work`; an InputError is an outcome, any other exception fails the property. */
function outcomeOf(work: () => void): Outcome {
  try {
    work();
    return { kind: 'valid' };
  } catch (error) {
    if (error instanceof InputError) return { kind: 'refused', message: error.message };
    throw error;
  }
}

function expectValidOrRefused(outcome: Outcome): void {
  if (outcome.kind === 'refused') expect(outcome.message.trim().length).toBeGreaterThan(0);
  else expect(outcome.kind).toBe('valid');
}

// --- random mutations of a valid document -------------------------------------------------------

interface Mutation {
  at: number;
  action: 'replace' | 'delete' | 'add';
  key: string;
  value: fc.JsonValue;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('replace', 'delete', 'add'),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('$schema', 'url', 'host', 'dist', 'samples', 'timings', 'status', 'request')),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<fc.JsonValue>(-1, 0, 1e308, -1e308, 0.5, '', 'https://a.example/', 'data:,x', [], {}, null)),
});

type Container = Record<string, unknown> | unknown[];

/** Every place in the tree a value sits at, parent first, so a mutation can pick one. */
function slots(root: unknown): Array<{ parent: Container; key: string | number }> {
  const found: Array<{ parent: Container; key: string | number }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        found.push({ parent: node, key: i });
        visit(child);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        found.push({ parent: node as Record<string, unknown>, key });
        visit(child);
      }
    }
  };
  visit(root);
  return found;
}

function mutate(base: unknown, mutations: readonly Mutation[]): unknown {
  const copy = structuredClone(base);
  for (const mutation of mutations) {
    const all = slots(copy);
    const slot = all[mutation.at % Math.max(1, all.length)];
    if (!slot) continue;
    const { parent, key } = slot;
    if (mutation.action === 'replace') {
      (parent as Record<string | number, unknown>)[key] = structuredClone(mutation.value);
    } else if (mutation.action === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key as string];
    } else if (Array.isArray(parent)) {
      parent.push(structuredClone(mutation.value));
    } else {
      parent[mutation.key] = structuredClone(mutation.value);
    }
  }
  return copy;
}

// --- scenarios ----------------------------------------------------------------------------------

const validScenario: ScenarioInput = {
  $schema: '../schema/scenario.schema.json',
  name: 'hostile-base',
  description: 'every part of the contract once',
  seed: 7,
  requests: [{ host: 'news.example', count: 3, path: '/p/' }, { url: 'https://api.example/v1/items?page=2' }],
  hosts: {
    'news.example': {
      latencyMs: { dist: 'lognormal', median: 120, p99: 800 },
      bodyBytes: { dist: 'uniform', min: 1000, max: 5000 },
      capacity: 8,
      rateLimit: { rps: 20, burst: 5 },
      errorRate: 0.01,
      timeoutRate: 0.01,
      resetRate: 0.01,
    },
    'api.example': { latencyMs: { dist: 'empirical', samples: [10, 20, 30] }, bodyBytes: { dist: 'normal', mean: 900, sd: 100 } },
  },
  work: { parse: 'json', threads: 0 },
  sink: { kind: 'model', latencyMs: { dist: 'fixed', value: 8 }, poolSize: 5, batchSize: 2 },
  client: { timeoutMs: 5000, retries: 2, backoffMs: 50 },
  lambda: { architecture: 'arm64', region: 'eu-west-1', invocationsPerMonth: 1000, timeoutS: 60 },
  sweep: { concurrency: [1, 8, 60], memoryMb: [512, 1769], reps: 2, timeScale: 1 },
};

describe('parseScenario on hostile input', () => {
  it('accepts the unmutated base scenario', () => {
    expect(parseScenario(validScenario, 'base.json').name).toBe('hostile-base');
  });

  it('refuses a request URL that is not a URL instead of crashing in the host check', () => {
    const scenario = { ...validScenario, requests: [{ url: '' }] };
    expect(outcomeOf(() => parseScenario(scenario, 'bad-url.json'))).toEqual({
      kind: 'refused',
      message: 'bad-url.json: requests[0].url: Invalid URL. Fix: see schema/scenario.schema.json for the allowed fields and values',
    });
  });

  it('refuses a request to the host "constructor" when no such host is defined', () => {
    const scenario = { ...validScenario, requests: [{ host: 'constructor', count: 1 }] };
    expect(outcomeOf(() => parseScenario(scenario, 'proto.json'))).toEqual({
      kind: 'refused',
      message:
        'proto.json: requests[0].host: host "constructor" is not defined under "hosts"; add it there. Fix: see schema/scenario.schema.json for the allowed fields and values',
    });
  });

  it('either returns a scenario or throws an InputError for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        expectValidOrRefused(outcomeOf(() => parseScenario(raw, 'random.json')));
      }),
      { numRuns: 300 },
    );
  });

  it('either returns a scenario or throws an InputError naming the file for any mutation of a valid one', () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (mutations) => {
        const outcome = outcomeOf(() => {
          const scenario = parseScenario(mutate(validScenario, mutations), 'mutated.json');
          expect(scenarioSchema.safeParse(scenario).success).toBe(true);
        });
        expectValidOrRefused(outcome);
        if (outcome.kind === 'refused') expect(outcome.message.startsWith('mutated.json: ')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// --- HARs ---------------------------------------------------------------------------------------

/** Mostly plausible values, sometimes any JSON, sometimes absent: what hand-edited or odd exports hold. */
function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | fc.JsonValue | undefined> {
  return fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** Like `maybe`, for the fields every entry needs: broken rarely, so that most HARs get deep. */
function mostly<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | fc.JsonValue | undefined> {
  return fc.oneof({ weight: 60, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }, { weight: 1, arbitrary: fc.constant(undefined) });
}

const phaseArb = fc.oneof(
  fc.constant(-1),
  fc.constant(0),
  fc.double({ min: 0, max: 10_000, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const urlArb = fc.oneof(
  { weight: 12, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'data:image/png;base64,AAAA',
      'blob:https://a.example/5f1c',
      'chrome-extension://abc/x.js',
      'https://[::1]:8080/',
      'http://[2001:db8::1]/x',
      'http://A_B.example./',
      'http://192.0.2.1:81/x',
      'ws://a.example/socket',
      'https://user:pw@a.example/#frag',
      'https://xn--bcher-kva.example/',
      'https://bücher.example/',
      'http://-.example/',
      'https://a.example:0/',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const entryArb = fc.record(
  {
    pageref: maybe(fc.constantFrom('page_1', 'page_2')),
    startedDateTime: maybe(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string({ maxLength: 10 }),
      ),
    ),
    time: mostly(phaseArb),
    connection: maybe(fc.oneof(fc.constantFrom('1', '2', '443', ''), fc.nat(3))),
    request: mostly(fc.record({ method: maybe(fc.constantFrom('GET', 'POST', 'put')), url: mostly(urlArb) }, { requiredKeys: ['url'] })),
    response: mostly(
      fc.record(
        {
          status: mostly(fc.oneof(fc.constantFrom(0, 200, 204, 301, 304, 404, 429, 500, 503), fc.integer({ min: -5, max: 999 }))),
          bodySize: mostly(phaseArb),
          headersSize: mostly(phaseArb),
          content: mostly(
            fc.record({ size: mostly(phaseArb), mimeType: maybe(fc.constantFrom('text/html', 'application/json', 'image/png', '')) }, { requiredKeys: [] }),
          ),
        },
        { requiredKeys: ['status'] },
      ),
    ),
    timings: mostly(
      fc.record(
        {
          blocked: mostly(phaseArb),
          dns: mostly(phaseArb),
          connect: mostly(phaseArb),
          ssl: mostly(phaseArb),
          send: mostly(phaseArb),
          wait: mostly(phaseArb),
          receive: mostly(phaseArb),
        },
        { requiredKeys: [] },
      ),
    ),
    _bytesIn: maybe(fc.oneof(fc.nat().map(String), fc.nat())),
  },
  { requiredKeys: ['request', 'response', 'time'] },
);

const harArb: fc.Arbitrary<unknown> = fc
  .oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 5,
      arbitrary: fc.record({
        log: mostly(
          fc.record(
            {
              version: maybe(fc.constantFrom('1.1', '1.2', '2.0', '')),
              creator: maybe(fc.record({ name: fc.string({ maxLength: 8 }), version: fc.string({ maxLength: 4 }) })),
              pages: maybe(fc.array(fc.record({ id: fc.string({ maxLength: 4 }), title: maybe(fc.string({ maxLength: 30 })) }), { maxLength: 2 })),
              entries: mostly(fc.array(mostly(entryArb), { maxLength: 8 })),
            },
            { requiredKeys: ['entries'] },
          ),
        ),
      }),
    },
  )
  // What a parser hands over: JSON, so no undefined values and no negative zero.
  .map((value) => JSON.parse(JSON.stringify(value ?? null)) as unknown);

/** A small valid HAR, for mutation. */
const validHar = {
  log: {
    version: '1.2',
    creator: { name: 'hand-made', version: '1' },
    pages: [{ id: 'page_1', title: 'https://news.example/' }],
    entries: [
      {
        startedDateTime: '2026-01-01T00:00:00.000Z',
        time: 150,
        connection: '7',
        request: { method: 'GET', url: 'https://news.example/' },
        response: { status: 200, bodySize: 4000, headersSize: 300, content: { size: 12000, mimeType: 'text/html' } },
        timings: { blocked: 1, dns: 5, connect: 40, ssl: 25, send: 0, wait: 90, receive: 14 },
      },
      {
        startedDateTime: '2026-01-01T00:00:01.500Z',
        time: 60,
        connection: '7',
        request: { method: 'GET', url: 'https://api.example:8443/v1/items' },
        response: { status: 429, bodySize: -1, content: { size: -1, mimeType: 'application/json' } },
        timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 55, receive: 5 },
      },
      {
        startedDateTime: '2026-01-01T00:00:02.000Z',
        time: 0,
        request: { method: 'GET', url: 'data:,hello' },
        response: { status: 200, content: { size: 5, mimeType: 'text/plain' } },
        timings: { wait: 0, receive: 0 },
      },
    ],
  },
};

function checkHarImport(raw: unknown, file: string): Outcome {
  return outcomeOf(() => {
    const { scenario, notes } = importHar(raw, { file });
    expect(scenarioSchema.safeParse(scenario).success).toBe(true);
    expect(parseScenario(scenario, file).requests.length).toBeGreaterThan(0);
    expect(summariseHosts(scenario).length).toBe(Object.keys(scenario.hosts).length);
    expect(notes.every((note) => note.length > 0)).toBe(true);
  });
}

describe('importHar on hostile input', () => {
  it('imports the unmutated base HAR', () => {
    expect(checkHarImport(validHar, 'base.har')).toEqual({ kind: 'valid' });
  });

  it('either returns a valid scenario or throws an InputError for random HAR-like objects', () => {
    fc.assert(
      fc.property(harArb, (raw) => {
        expectValidOrRefused(checkHarImport(raw, 'random.har'));
      }),
      { numRuns: 500 },
    );
  });

  it('either returns a valid scenario or throws an InputError naming the file for mutations of a valid HAR', () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (mutations) => {
        const outcome = checkHarImport(mutate(validHar, mutations), 'mutated.har');
        expectValidOrRefused(outcome);
        if (outcome.kind === 'refused') expect(outcome.message.startsWith('mutated.har: ')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.skipIf(fixtureDir === undefined)('either returns a valid scenario or throws an InputError for mutations of a real Firefox HAR', () => {
    const firefox = JSON.parse(readFileSync(join(fixtureDir!, 'http2-firefox.har'), 'utf8')) as unknown;
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (mutations) => {
        expectValidOrRefused(checkHarImport(mutate(firefox, mutations), 'http2-firefox.har'));
      }),
      { numRuns: 100 },
    );
  });
});

describe('npm run import-har on garbage files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const validText = JSON.stringify(validHar);

  const garbageArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.uint8Array({ maxLength: 200 }),
    // A download cut short: any proper prefix of a HAR is invalid JSON.
    fc.nat({ max: validText.length - 1 }).map((length) => validText.slice(0, length)),
  );

  it('exits with code 2 and one message without a stack trace, writing nothing', () => {
    let run = 0;
    fc.assert(
      fc.property(garbageArb, (content) => {
        run++;
        const file = join(dir, `garbage-${run}.har`);
        const out = join(dir, `out-${run}.json`);
        writeFileSync(file, content);
        const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import-har.ts', file, '--out', out], {
          cwd: repoRoot,
          encoding: 'utf8',
        });
        expect(result.status).toBe(2);
        expect(result.stderr).toContain(file);
        expect(result.stderr).not.toMatch(/^ {4}at /m);
        expect(existsSync(out)).toBe(false);
      }),
      { numRuns: 5 },
    );
  });
});
