import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import got from 'got';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MswBackend } from '../harness/mock/msw-backend.ts';
import type { OkAnswer } from '../harness/mock/replay-server.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { parseHtml, parseJson } from '../harness/workload/parse.ts';
import { BodyFactory } from '../harness/mock/bodies.ts';

let backend: MswBackend | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  backend?.stop();
  backend = undefined;
});

function serve(input: Omit<ScenarioInput, 'name' | 'seed'>): void {
  const scenario = scenarioSchema.parse({ name: 'mock', seed: 5, ...input });
  backend = new MswBackend({ scenario, timeScale: 1 });
  backend.start();
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

describe('mocked hosts', () => {
  it('queue requests beyond their capacity, so six requests at capacity two take three rounds', async () => {
    serve({
      requests: [{ host: 'a.example', count: 6 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 80 }, capacity: 2 } },
    });
    const one = await timed(() => fetch('https://a.example/page/0').then((r) => r.text()));
    backend!.beginInvocation();
    const six = await timed(() => Promise.all([0, 1, 2, 3, 4, 5].map((i) => fetch(`https://a.example/page/${i}`).then((r) => r.status))));
    expect(six.value).toEqual([200, 200, 200, 200, 200, 200]);
    // Three rounds of 80 ms; an unlimited host would answer all six in one.
    expect(six.ms / 80).toBeGreaterThan(2.8);
    expect(six.ms / 80).toBeLessThan(4.5);
    expect(one.ms / 80).toBeLessThan(1.8);
  });

  it('answer 429 with Retry-After once the token bucket is empty', async () => {
    serve({
      requests: [{ host: 'a.example', count: 5 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 }, rateLimit: { rps: 10, burst: 2 } } },
    });
    const responses = await Promise.all([0, 1, 2].map((i) => fetch(`https://a.example/page/${i}`)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 429]);
    const limited = responses[2]!;
    // One token takes 100 ms at 10 rps.
    expect(Number(limited.headers.get('retry-after-ms'))).toBeGreaterThan(90);
    expect(Number(limited.headers.get('retry-after-ms'))).toBeLessThanOrEqual(100);
    expect(limited.headers.get('retry-after')).toBe('1');
  });

  it('send only the whole-second Retry-After when the host is set to', async () => {
    serve({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 }, rateLimit: { rps: 10, burst: 1, retryAfter: 'seconds' } } },
    });
    const [, second] = await Promise.all([0, 1].map((i) => fetch(`https://a.example/page/${i}`)));
    expect(second!.status).toBe(429);
    expect(second!.headers.get('retry-after-ms')).toBeNull();
    expect(second!.headers.get('retry-after')).toBe('1');
  });

  it('answer 503 for errors and break the connection for resets', async () => {
    serve({
      requests: [
        { host: 'err.example', count: 1 },
        { host: 'reset.example', count: 1 },
      ],
      hosts: {
        'err.example': { latencyMs: { dist: 'fixed', value: 1 }, errorRate: 1 },
        'reset.example': { latencyMs: { dist: 'fixed', value: 1 }, resetRate: 1 },
      },
    });
    expect((await fetch('https://err.example/page/0')).status).toBe(503);
    await expect(fetch('https://reset.example/page/1')).rejects.toThrow(TypeError);
  });

  it('never answer a timed-out request, so the client gives up on its own clock', async () => {
    serve({
      requests: [{ host: 'slow.example', count: 1 }],
      hosts: { 'slow.example': { latencyMs: { dist: 'fixed', value: 1 }, timeoutRate: 1 } },
    });
    const attempt = await timed(() =>
      fetch('https://slow.example/page/0', { signal: AbortSignal.timeout(150) }).then(
        () => 'answered',
        (e: Error) => e.name,
      ),
    );
    expect(attempt.value).toBe('TimeoutError');
    expect(attempt.ms / 150).toBeGreaterThan(0.95);
  });

  it('refuse a host the scenario does not define, naming the URL', async () => {
    serve({ requests: [{ host: 'a.example', count: 1 }], hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 } } } });
    await expect(fetch('https://elsewhere.example/secret')).rejects.toThrow();
    expect(backend!.unmockedRequests()).toEqual(['https://elsewhere.example/secret']);
  });
});

describe('the msw backend', () => {
  const oneHost = (spec: Record<string, unknown>, count = 1): Omit<ScenarioInput, 'name' | 'seed'> => ({
    requests: [{ host: 'a.example', count }],
    hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 }, ...spec } },
    work: { parse: 'json' },
  });

  it('serves node:https, axios and got with the prebuilt body and its headers', async () => {
    serve(oneHost({ bodyBytes: { dist: 'fixed', value: 3000 } }, 3));
    const viaNode = await new Promise<{ status: number | undefined; type: string | undefined; body: string }>((resolve, reject) => {
      https
        .get('https://a.example/page/0', (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode, type: response.headers['content-type'], body }));
        })
        .on('error', reject);
    });
    const viaAxios = await axios.get<string>('https://a.example/page/1', { responseType: 'text' });
    const viaGot = await got('https://a.example/page/2', { retry: { limit: 0 } });
    expect([viaNode.status, viaAxios.status, viaGot.statusCode]).toEqual([200, 200, 200]);
    expect([viaNode.type, viaAxios.headers['content-type'], viaGot.headers['content-type']]).toEqual([
      'application/json',
      'application/json',
      'application/json',
    ]);
    expect([viaNode.body.length, viaAxios.data.length, viaGot.body.length]).toEqual([3000, 3000, 3000]);
    expect(parseJson(viaGot.body).title).toBe('Page 2');
    expect(backend!.server.servedCounts()).toMatchObject({ requests: 3, errors: 0 });
  });

  it('gives fetch a Response that names its URL and carries the 200 headers', async () => {
    serve(oneHost({ bodyBytes: { dist: 'fixed', value: 700 } }));
    const response = await fetch('https://a.example/page/0');
    expect([response.status, response.url, response.headers.get('content-length'), (await response.text()).length]).toEqual([
      200,
      'https://a.example/page/0',
      '700',
      700,
    ]);
  });

  it('counts a node:http client that gives up on a host that never answers as a timeout', async () => {
    serve(oneHost({ timeoutRate: 1 }));
    const failure = await got('https://a.example/page/0', { retry: { limit: 0 }, timeout: { request: 100 } }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(failure).toBe('TimeoutError');
    // The tally is written once the mock sees the client give up, a moment after got does.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend!.server.servedCounts()).toMatchObject({ requests: 1, errors: 1, errorsByKind: { timeout: 1 } });
  });

  it('refuses an unlisted host through node:http with the error naming the URL', async () => {
    serve(oneHost({}));
    const failure = await new Promise<string>((resolve) => {
      http.get('http://elsewhere.example/secret', () => resolve('answered')).on('error', (error) => resolve(error.message));
    });
    expect(failure).toContain('request to http://elsewhere.example/secret was blocked');
    expect(backend!.unmockedRequests()).toEqual(['http://elsewhere.example/secret']);
  });

  it("leaves the process's Headers, Request and Response alone and restores fetch and node:http when stopped", async () => {
    const before = { fetch: globalThis.fetch, Headers: globalThis.Headers, Request: globalThis.Request, Response: globalThis.Response, get: https.get };
    serve(oneHost({}));
    expect(globalThis.fetch).not.toBe(before.fetch);
    expect(https.get).not.toBe(before.get);
    expect([globalThis.Headers, globalThis.Request, globalThis.Response]).toEqual([before.Headers, before.Request, before.Response]);
    expect(new Headers({ A: '1' }).get('a')).toBe('1');
    backend!.stop();
    backend = undefined;
    expect([globalThis.fetch, https.get]).toEqual([before.fetch, before.get]);
  });

  it("reports a fault of its own in building an answer as the mock's, never as a 5xx of the scenario's server", async () => {
    serve(oneHost({}, 2));
    // An answer the backend cannot turn into a response: a header name Headers refuses.
    const unbuildable: OkAnswer = { kind: 'ok', body: Buffer.from('{}'), contentType: 'application/json', headers: { 'bad name': 'x' } };
    vi.spyOn(backend!.server, 'serve').mockResolvedValue(unbuildable);
    const viaFetch = await fetch('https://a.example/page/0').then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.name,
    );
    const viaGot = await got('https://a.example/page/1', { retry: { limit: 0 } }).then(
      (response) => `answered ${response.statusCode}`,
      (error: Error & { response?: { statusCode: number } }) => (error.response ? `answered ${error.response.statusCode}` : 'failed'),
    );
    expect([viaFetch, viaGot]).toEqual(['TypeError', 'failed']);
    expect(backend!.server.mockFailures()).toEqual([
      expect.stringMatching(/^https:\/\/a\.example\/page\/0: .*bad name/),
      expect.stringMatching(/^https:\/\/a\.example\/page\/1: .*bad name/),
    ]);
  });

  it("measures how late its hosts' latency timers fired, and starts each invocation without a figure", async () => {
    // 0.3 ms latencies: Node's timers wait at least 1 ms (counted from a loop clock that may be a
    // little behind), so the hosts answered at least half a millisecond late on average. Over 20
    // waits, as one wait behind a stale clock (0.46 ms late in 1 of 40 runs of 3 on a busy
    // machine) does not decide the mean: over 20, 0.76 to 1.03 ms in 40 runs.
    serve({ requests: [{ host: 'a.example', count: 20 }], hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 0.3 } } } });
    for (let i = 0; i < 20; i++) await (await fetch(`https://a.example/page/${i}`)).arrayBuffer();
    expect(backend!.server.latencyTimerLateMs()).toBeGreaterThanOrEqual(0.5);
    backend!.beginInvocation();
    expect(backend!.server.latencyTimerLateMs()).toBeUndefined();
  });

  it("charges the mock's own work to its CPU time, and starts each invocation at zero", async () => {
    serve(oneHost({}, 3));
    for (const i of [0, 1, 2]) await (await fetch(`https://a.example/page/${i}`)).arrayBuffer();
    expect(backend!.mockCpuMs()).toBeGreaterThan(0);
    backend!.beginInvocation();
    expect(backend!.mockCpuMs()).toBe(0);
  });
});

describe('generated bodies', () => {
  const factory = new BodyFactory();

  it('have exactly the drawn size and real structure for the parser', () => {
    const html = factory.body('html', 20_000, 3);
    expect(Buffer.byteLength(html)).toBe(20_000);
    const page = parseHtml(html);
    expect(page.title).toBe('Page 3');
    expect(page.links).toBe((html.match(/<a href=/g) ?? []).length);
    expect(page.links).toBeGreaterThan(50);
    const json = factory.body('json', 6000, 4);
    expect(Buffer.byteLength(json)).toBe(6000);
    expect(parseJson(json)).toEqual({ title: 'Page 4', links: JSON.parse(json).items.length });
  });

  it('come out at every size asked for, small or large', () => {
    for (let bytes = 0; bytes < 3000; bytes += 7) {
      expect(Buffer.byteLength(factory.body('html', bytes, 1))).toBe(bytes);
      expect(Buffer.byteLength(factory.body('json', bytes + 100, 1))).toBe(bytes + 100);
    }
    for (const bytes of [19_993, 20_000, 150_000]) expect(Buffer.byteLength(factory.body('html', bytes, 2))).toBe(bytes);
  });
});
