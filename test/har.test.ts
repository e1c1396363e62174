import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { connectionSetupMs, importHar, scenarioHostName, summariseHosts, type HarImport } from '../harness/scenario/har.ts';
import { readJsonFile } from '../harness/scenario/load.ts';
import { scenarioSchema, type Distribution } from '../harness/scenario/schema.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The shared fixtures sit beside the main checkout (../shared) or two levels up from a worktree.
const fixtureDir = [resolve(repoRoot, '../shared/fixtures/har'), resolve(repoRoot, '../../shared/fixtures/har')].find((dir) =>
  existsSync(join(dir, 'http1.1-chrome.har')),
);

interface EntryParts {
  status?: number;
  timings?: Record<string, number>;
  time?: number;
  connection?: string;
  size?: number;
  bodySize?: number;
  mimeType?: string;
  method?: string;
  started?: string;
}

/** One HAR 1.2 entry with only the fields the importer reads. */
function entry(url: string, parts: EntryParts = {}): Record<string, unknown> {
  return {
    startedDateTime: parts.started ?? '2026-01-01T00:00:00.000Z',
    ...(parts.time === undefined ? {} : { time: parts.time }),
    ...(parts.connection === undefined ? {} : { connection: parts.connection }),
    request: { method: parts.method ?? 'GET', url },
    response: {
      status: parts.status ?? 200,
      bodySize: parts.bodySize ?? -1,
      content: { size: parts.size ?? 1000, mimeType: parts.mimeType ?? 'text/html' },
    },
    ...(parts.timings === undefined ? {} : { timings: parts.timings }),
  };
}

function har(entries: unknown[], version = '1.2', extra: Record<string, unknown> = {}): unknown {
  return { log: { version, creator: { name: 'hand-made', version: '1' }, entries, ...extra } };
}

function samplesOf(dist: Distribution | undefined): number[] {
  if (dist?.dist !== 'empirical') throw new Error(`expected an empirical distribution, got ${JSON.stringify(dist)}`);
  return dist.samples;
}

function hostOf(result: HarImport, host: string) {
  const spec = result.scenario.hosts[host];
  if (!spec) throw new Error(`no host ${host} in ${Object.keys(result.scenario.hosts).join(', ')}`);
  return spec;
}

function inputErrorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('latency from the recorded timings', () => {
  const session = har([
    entry('https://a.example/', { connection: '1', timings: { blocked: 5, dns: 12, connect: 30, ssl: 20, send: 1, wait: 100, receive: 10 } }),
    // A second request that waited for the same connection reports its set-up again.
    entry('https://a.example/app.js', { connection: '1', timings: { connect: 30, ssl: 20, wait: 50, receive: 5 } }),
    entry('https://a.example/api', { connection: '2', timings: { dns: -1, connect: -1, ssl: -1, send: 0, wait: 70, receive: -1 } }),
    entry('https://a.example/no-timings', { time: 88 }),
    entry('https://a.example/broken', { status: 503, timings: { wait: 10, receive: 0 } }),
    entry('https://a.example/aborted', { status: 0, time: 0, timings: { blocked: 3, dns: -1, connect: -1, send: -1, wait: -1, receive: -1 } }),
  ]);
  const result = importHar(session, { file: 'session.har' });

  it('adds wait and receive, counts connect once per connection id, and never adds ssl on top of connect', () => {
    expect(samplesOf(hostOf(result, 'a.example').latencyMs)).toEqual([140, 55, 70, 88, 10]);
  });

  it('counts connect on every entry that reports it when the HAR has no connection ids', () => {
    const noIds = importHar(
      har([
        entry('https://b.example/1', { timings: { connect: 40, ssl: 25, wait: 10, receive: 1 } }),
        entry('https://b.example/2', { timings: { connect: 0, wait: 10, receive: 1 } }),
        entry('https://b.example/3', { timings: { connect: 35, wait: 10, receive: 1 } }),
      ]),
      { file: 'x.har' },
    );
    expect(samplesOf(hostOf(noIds, 'b.example').latencyMs)).toEqual([51, 11, 46]);
  });

  it('adds ssl to connect only in a pre-1.2 HAR whose ssl cannot be inside connect', () => {
    expect(connectionSetupMs(30, 20, '1.2')).toBe(30);
    expect(connectionSetupMs(30, 20, '1.1')).toBe(30);
    expect(connectionSetupMs(10, 25, '1.1')).toBe(35);
    expect(connectionSetupMs(10, 25, '1.2')).toBe(25);
    const old = importHar(har([entry('https://c.example/', { timings: { connect: 10, ssl: 25, wait: 5, receive: 5 } })], '1.1'), { file: 'x.har' });
    expect(samplesOf(hostOf(old, 'c.example').latencyMs)).toEqual([45]);
  });

  it('turns 5xx into errorRate and status 0 into resetRate, leaving failed requests out of the latencies', () => {
    const host = hostOf(result, 'a.example');
    expect(host.errorRate).toBe(1 / 6);
    expect(host.resetRate).toBe(1 / 6);
  });

  it('takes body sizes from content.size, then bodySize, and uses 10,000 bytes for a host that records none', () => {
    const sizes = importHar(
      har([
        entry('https://d.example/1', { time: 1, size: 2048, bodySize: 700 }),
        entry('https://d.example/2', { time: 1, size: -1, bodySize: 512 }),
        entry('https://d.example/3', { time: 1, size: -1, bodySize: -1 }),
        entry('https://e.example/1', { time: 1, size: -1, bodySize: -1 }),
      ]),
      { file: 'x.har' },
    );
    expect(samplesOf(hostOf(sizes, 'd.example').bodyBytes)).toEqual([2048, 512]);
    expect(hostOf(sizes, 'e.example').bodyBytes).toEqual({ dist: 'fixed', value: 10_000 });
    expect(sizes.notes).toContain('e.example: no body size recorded; assuming 10000 bytes');
  });
});

describe('requests, hosts and names', () => {
  it('keeps http(s) requests in recorded order and notes the skipped schemes', () => {
    const result = importHar(
      har([
        entry('https://a.example/1', { time: 1 }),
        entry('data:image/png;base64,iVBORw0KGgo=', { time: 0 }),
        entry('http://a.example/2', { time: 1 }),
        entry('blob:https://a.example/5f1c', { time: 0 }),
        entry('chrome-extension://abcdef/content.js', { time: 0 }),
        entry('data:text/plain,hi', { time: 0 }),
      ]),
      { file: 'x.har' },
    );
    expect(result.scenario.requests).toEqual([{ url: 'https://a.example/1' }, { url: 'http://a.example/2' }]);
    expect(result.notes).toEqual(
      expect.arrayContaining([
        'skipped 2 data: requests: only http and https requests are replayed',
        'skipped 1 blob: request: only http and https requests are replayed',
        'skipped 1 chrome-extension: request: only http and https requests are replayed',
      ]),
    );
  });

  it('lower-cases hosts, renames those the schema refuses, drops ports and credentials, and says so', () => {
    const result = importHar(
      har([
        entry('https://API.Example.COM/v1', { time: 1 }),
        entry('https://user:secret@my_host.example:8443/x#top', { time: 1 }),
        entry('http://[2001:db8::1]/status', { time: 1 }),
        entry('http://192.0.2.7/health', { time: 1 }),
      ]),
      { file: 'x.har' },
    );
    expect(result.scenario.requests).toEqual([
      { url: 'https://api.example.com/v1' },
      { url: 'https://my-host.example/x' },
      { url: 'http://ipv6-2001-db8--1.example/status' },
      { url: 'http://192.0.2.7/health' },
    ]);
    expect(Object.keys(result.scenario.hosts)).toEqual(['api.example.com', 'my-host.example', 'ipv6-2001-db8--1.example', '192.0.2.7']);
    expect(result.notes).toEqual(
      expect.arrayContaining([
        'host "my_host.example" is called "my-host.example" in the scenario (host names must match [a-z0-9.-])',
        'host "[2001:db8::1]" is called "ipv6-2001-db8--1.example" in the scenario (host names must match [a-z0-9.-])',
        'dropped port :8443 from the URLs of my-host.example: a mocked host answers whatever the port',
      ]),
    );
  });

  it('maps host names to scenario names, or to nothing when no usable name is left', () => {
    expect(scenarioHostName('news.example')).toBe('news.example');
    expect(scenarioHostName('news.example.')).toBe('news.example');
    expect(scenarioHostName('[::1]')).toBe('ipv6---1.example');
    expect(scenarioHostName('[::]')).toBe('ipv6---0.example');
    expect(scenarioHostName('_')).toBeUndefined();
  });

  it('sets a rate limit from the accepted rate when a host answered 429 over a long enough recording', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const result = importHar(
      har([
        entry('https://api.example/1', { time: 20, started: at(0) }),
        entry('https://api.example/2', { time: 20, started: at(1) }),
        entry('https://api.example/3', { status: 429, time: 2, started: at(1) }),
        entry('https://api.example/4', { time: 20, started: at(2) }),
        entry('https://api.example/5', { status: 429, time: 2, started: at(2) }),
        entry('https://api.example/6', { time: 20, started: at(3) }),
        entry('https://burst.example/1', { time: 20, started: at(0) }),
        entry('https://burst.example/2', { status: 429, time: 2, started: at(0) }),
      ]),
      { file: 'x.har' },
    );
    const api = hostOf(result, 'api.example');
    expect(api.rateLimit).toEqual({ rps: 1.33 });
    expect(samplesOf(api.latencyMs)).toEqual([20, 20, 20, 20]);
    expect(api.errorRate).toBe(0);
    expect(hostOf(result, 'burst.example').rateLimit).toBeUndefined();
    expect(result.notes).toEqual(
      expect.arrayContaining([
        "2 of 6 requests to api.example got 429; rateLimit.rps 1.33 is the rate the server accepted while recording, check it against the API's documented limit",
        '1 of 2 requests to burst.example got 429; the recording is too short or too sparse to infer a rate limit; set hosts.burst.example.rateLimit.rps yourself',
      ]),
    );
  });

  it('sets no rate limit when the accepted requests are too sparse to round to 0.01 rps', () => {
    const result = importHar(
      har([
        entry('https://slow.example/1', { time: 5, started: '2020-01-01T00:00:00Z' }),
        entry('https://slow.example/2', { time: 5, started: '2026-01-01T00:00:00Z' }),
        entry('https://slow.example/3', { status: 429, time: 1, started: '2026-01-01T00:00:00Z' }),
      ]),
      { file: 'x.har' },
    );
    expect(hostOf(result, 'slow.example').rateLimit).toBeUndefined();
  });

  it('parses like the dominant content type and notes requests that were not GETs', () => {
    const result = importHar(
      har([
        entry('https://api.example/a', { time: 1, mimeType: 'application/json; charset=utf-8' }),
        entry('https://api.example/b', { time: 1, mimeType: 'application/vnd.api+json', method: 'post' }),
        entry('https://api.example/c', { time: 1, mimeType: 'text/html' }),
      ]),
      { file: 'x.har' },
    );
    expect(result.scenario.work).toEqual({ parse: 'json' });
    expect(result.notes).toContain('1 POST request is replayed as GET: the scenario fetches URLs');
  });

  it('names the scenario from the given name, else the first page title, else har-import', () => {
    const entries = [entry('https://a.example/', { time: 1 })];
    const pages = { pages: [{ id: 'p1', title: 'Run 1, First View for https://News.example/Top' }] };
    expect(importHar(har(entries, '1.2', pages), { file: 'x.har', name: 'My Site.v2' }).scenario.name).toBe('my-site-v2');
    expect(importHar(har(entries, '1.2', pages), { file: 'x.har' }).scenario.name).toBe('run-1-first-view-for-news-example-top');
    expect(importHar(har(entries), { file: 'x.har', name: '***' }).scenario.name).toBe('har-import');
  });
});

describe('refusing malformed HARs with the JSON path', () => {
  const good = () => entry('https://a.example/', { time: 1 });
  const cases: Array<[string, unknown, string]> = [
    ['a JSON value that is not an object', [1, 2], 'session.har: (top level): must be an object, not an array'],
    ['no log', { entries: [] }, 'session.har: log: is missing'],
    ['no log.entries', { log: { version: '1.2' } }, 'session.har: log.entries: is missing'],
    ['empty log.entries', har([]), 'session.har: log.entries: is empty'],
    [
      'an entry without request.url',
      har([...Array.from({ length: 12 }, good), { request: { method: 'GET' }, response: { status: 200 } }]),
      'session.har: log.entries[12].request.url: is missing',
    ],
    ['a URL that is not a URL', har([entry('/relative/path', { time: 1 })]), 'session.har: log.entries[0].request.url: is not a URL'],
    ['an entry without response', har([{ request: { url: 'https://a.example/' }, time: 1 }]), 'session.har: log.entries[0].response: is missing'],
    [
      'a timing that is not a number',
      har([entry('https://a.example/', { timings: { wait: 'slow' as unknown as number } })]),
      'session.har: log.entries[0].timings.wait: must be a number',
    ],
    [
      'an entry with neither timings nor time',
      har([entry('https://a.example/')]),
      'session.har: log.entries[0].timings: is missing, and so is the entry\'s "time"',
    ],
    ['nothing but data: URLs', har([entry('data:,x', { time: 0 })]), 'session.har: log.entries: holds no http or https request'],
    [
      "a latency past Lambda's 900 s",
      har([good(), entry('https://a.example/slow', { time: 3e9 })]),
      'session.har: log.entries[1].time: adds up to 3000000000 ms, longer than the 900000 ms',
    ],
    [
      'a body past 16 MiB',
      har([entry('https://a.example/video', { time: 5, size: 1e12 })]),
      'session.har: log.entries[0].response: has a body of 1000000000000 bytes, more than the 16777216 (16 MiB)',
    ],
  ];
  it.each(cases)('refuses %s', (_what, raw, start) => {
    const error = inputErrorOf(() => importHar(raw, { file: 'session.har' }));
    expect(error.message.startsWith(start)).toBe(true);
    expect(error.message).toMatch(/\. Fix: \S/);
  });

  it('refuses a truncated HAR file as invalid JSON, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'har-test-'));
    try {
      const file = join(dir, 'truncated.har');
      writeFileSync(file, JSON.stringify(har([good(), good()])).slice(0, 60));
      const error = inputErrorOf(() => readJsonFile(file, 'HAR file'));
      expect(error.message.startsWith(`${file}: not valid JSON`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(fixtureDir === undefined)('real HARs from Chrome, Firefox and WebPageTest', () => {
  const load = (name: string): { raw: unknown; result: HarImport } => {
    const raw = JSON.parse(readFileSync(join(fixtureDir!, name), 'utf8')) as unknown;
    return { raw, result: importHar(raw, { file: name }) };
  };

  it('imports a Chrome HAR 1.2: TLS inside connect, content sizes, the page URL as name', () => {
    const { result } = load('http1.1-chrome.har');
    expect(result.scenario.name).toBe('www-sitespeed-io');
    expect(result.scenario.requests).toHaveLength(13);
    expect(result.scenario.requests[0]).toEqual({ url: 'https://www.sitespeed.io/' });
    expect(Object.keys(result.scenario.hosts)).toEqual(['www.sitespeed.io', 'ssl.google-analytics.com']);
    const site = hostOf(result, 'www.sitespeed.io');
    // 266.432 wait + 0.406 receive + 106.998 connect (its 74.526 of TLS already inside).
    expect(samplesOf(site.latencyMs)[0]).toBe(373.836);
    expect(samplesOf(site.bodyBytes)[0]).toBe(25025);
    expect(summariseHosts(result.scenario).map((h) => [h.host, h.requests, h.latencyMedianMs])).toEqual([
      ['www.sitespeed.io', 11, 41.543],
      ['ssl.google-analytics.com', 2, 25.0925],
    ]);
    expect(result.scenario.work).toEqual({ parse: 'none' });
  });

  it('imports a Firefox HAR 1.1 without response bodies: sizes from bodySize', () => {
    const { result } = load('http2-firefox.har');
    const site = hostOf(result, 'run.sitespeed.io');
    expect(samplesOf(site.latencyMs)).toEqual([392, 123, 242, 242, 242, 240, 241, 241]);
    expect(samplesOf(site.bodyBytes)).toEqual([3485, 11820, 8695, 416, 6712, 592, 923, 894]);
    expect(samplesOf(hostOf(result, 'www.google-analytics.com').latencyMs)).toEqual([138, 15]);
    expect(result.scenario.name).toBe('new-tab');
  });

  it('imports a WebPageTest HAR: every latency is the entry time less its DNS lookup', () => {
    const { raw, result } = load('en.wikipedia.org.spdy-wpt.har');
    expect(result.scenario.requests).toHaveLength(102);
    expect(summariseHosts(result.scenario).map((h) => [h.host, h.requests, h.latencyMedianMs])).toEqual([
      ['en.wikipedia.org', 45, 68],
      ['upload.wikimedia.org', 54, 256.5],
      ['login.wikimedia.org', 3, 10],
    ]);
    const entries = (raw as { log: { entries: Array<{ time: number; timings: { dns: number }; request: { url: string } }> } }).log.entries;
    const expected = entries.filter((e) => e.request.url.startsWith('https://en.wikipedia.org/')).map((e) => e.time - Math.max(0, e.timings.dns));
    expect(samplesOf(hostOf(result, 'en.wikipedia.org').latencyMs)).toEqual(expected);
    expect(samplesOf(hostOf(result, 'en.wikipedia.org').bodyBytes)[0]).toBe(17283);
    expect(result.notes).toContain('the HAR holds 6 page loads; the requests of all of them are replayed, in recorded order');
  });

  it('always produces a scenario the schema accepts', () => {
    for (const name of ['http1.1-chrome.har', 'http2-firefox.har', 'en.wikipedia.org.spdy-wpt.har']) {
      expect(scenarioSchema.safeParse(load(name).result.scenario).success).toBe(true);
    }
  });
});

describe('npm run import-har', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-har-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'session.har');
  writeFileSync(input, JSON.stringify(har([entry('https://a.example/', { time: 12 }), entry('https://b.example/x', { time: 30, status: 503 })])));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import-har.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });

  it('writes the scenario with a $schema relative to it, prints a summary, and refuses to overwrite without --force', () => {
    const out = join(dir, 'scenarios', 'my-site.json');
    const first = run(input, '--out', out);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('scenario "my-site", 2 requests to 2 hosts');
    expect(first.stdout).toMatch(/b\.example\s+1 requests {2}latency median 30\.0 ms {2}body median 10000 B {2}5xx 100\.0%/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { $schema: string; name: string };
    expect(resolve(dirname(out), written.$schema)).toBe(join(repoRoot, 'schema', 'scenario.schema.json'));
    expect(written.name).toBe('my-site');

    writeFileSync(out, '{"kept": true}\n');
    const second = run(input, '--out', out);
    expect(second.status).toBe(2);
    expect(second.stderr).toBe(`error: ${out}: --out: already exists. Fix: pass --force to overwrite it, or choose another --out\n`);
    expect(readFileSync(out, 'utf8')).toBe('{"kept": true}\n');

    const forced = run(input, '--out', out, '--force', '--name', 'other');
    expect(forced.status).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { name: string }).name).toBe('other');
  });

  it('refuses a truncated HAR with one line naming the file, and writes nothing', () => {
    const truncated = join(dir, 'truncated.har');
    writeFileSync(truncated, readFileSync(input, 'utf8').slice(0, 50));
    const out = join(dir, 'never.json');
    const result = run(truncated, '--out', out);
    expect(result.status).toBe(2);
    expect(result.stderr.startsWith(`error: ${truncated}: not valid JSON`)).toBe(true);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
