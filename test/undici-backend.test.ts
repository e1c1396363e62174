import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fetch as undiciFetch, getGlobalDispatcher, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { MswBackend } from '../harness/mock/msw-backend.ts';
import { UndiciBackend } from '../harness/mock/undici-backend.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { parseJson } from '../harness/workload/parse.ts';

let backend: UndiciBackend | undefined;
afterEach(() => {
  backend?.stop();
  backend = undefined;
});

function serve(input: Omit<ScenarioInput, 'name' | 'seed'>): UndiciBackend {
  const scenario = scenarioSchema.parse({ name: 'undici', seed: 5, ...input });
  backend = new UndiciBackend({ scenario, timeScale: 1 });
  backend.start();
  return backend;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

const oneHost = (spec: Record<string, unknown>, count = 1) => ({
  requests: [{ host: 'a.example', count }],
  hosts: { 'a.example': { latencyMs: { dist: 'fixed' as const, value: 1 }, ...spec } },
});

describe('the undici backend', () => {
  it('serves undici.request with the generated body and its headers', async () => {
    serve({ ...oneHost({ bodyBytes: { dist: 'fixed', value: 6000 } }), work: { parse: 'json' } });
    const response = await request('https://a.example/page/0');
    const text = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['content-length']).toBe('6000');
    expect(Buffer.byteLength(text)).toBe(6000);
    expect(parseJson(text).title).toBe('Page 0');
  });

  it('serves undici.fetch and the global fetch through the same dispatcher', async () => {
    serve({ ...oneHost({ bodyBytes: { dist: 'fixed', value: 500 } }, 2), work: { parse: 'html' } });
    const viaUndici = await undiciFetch('https://a.example/page/0');
    const viaGlobal = await fetch('https://a.example/page/1');
    expect([viaUndici.status, viaGlobal.status]).toEqual([200, 200]);
    expect((await viaUndici.text()).length).toBe(500);
    expect(await viaGlobal.text()).toContain('<title>Page 1</title>');
  });

  it('queues requests beyond a host capacity, so six requests at capacity two take three rounds', async () => {
    serve({
      requests: [{ host: 'a.example', count: 6 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 80 }, capacity: 2 } },
    });
    const six = await timed(() =>
      Promise.all(
        [0, 1, 2, 3, 4, 5].map(async (i) => {
          const response = await request(`https://a.example/page/${i}`);
          await response.body.dump();
          return response.statusCode;
        }),
      ),
    );
    expect(six.value).toEqual([200, 200, 200, 200, 200, 200]);
    // Three rounds of 80 ms; an unlimited host would answer all six in one.
    expect(six.ms / 80).toBeGreaterThan(2.9);
  });

  it('answers 429 with Retry-After once the token bucket is empty', async () => {
    serve(oneHost({ rateLimit: { rps: 10, burst: 2 } }, 5));
    const responses = await Promise.all([0, 1, 2].map((i) => request(`https://a.example/page/${i}`)));
    await Promise.all(responses.map((r) => r.body.dump()));
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 429]);
    const limited = responses[2]!;
    // One token takes 100 ms at 10 rps.
    expect(Number(limited.headers['retry-after-ms'])).toBeGreaterThan(90);
    expect(Number(limited.headers['retry-after-ms'])).toBeLessThanOrEqual(100);
    expect(limited.headers['retry-after']).toBe('1');
  });

  it('answers 503 for errors and resets the connection for resets', async () => {
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
    const error = await request('https://err.example/page/0');
    await error.body.dump();
    expect(error.statusCode).toBe(503);
    await expect(request('https://reset.example/page/1')).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    await expect(fetch('https://reset.example/page/1')).rejects.toThrow(TypeError);
  });

  it('never answers a timed-out request, so the client gives up on its own clock', async () => {
    serve(oneHost({ timeoutRate: 1 }));
    const attempt = await timed(() =>
      request('https://a.example/page/0', { signal: AbortSignal.timeout(150) }).then(
        () => 'answered',
        (error: Error) => error.name,
      ),
    );
    expect(attempt.value).toBe('TimeoutError');
    expect(attempt.ms / 150).toBeGreaterThan(0.95);
  });

  it('refuses a host the scenario does not define, naming the URL, without opening a socket', async () => {
    const sockets: unknown[] = [];
    const onSocket = (message: unknown) => sockets.push(message);
    subscribe('net.client.socket', onSocket);
    try {
      serve(oneHost({}));
      await expect(request('https://elsewhere.example/secret')).rejects.toThrow('https://elsewhere.example/secret');
      await expect(undiciFetch('https://elsewhere.example/other')).rejects.toThrow(TypeError);
      expect(backend!.unmockedRequests()).toEqual(['https://elsewhere.example/secret', 'https://elsewhere.example/other']);
      expect(sockets).toEqual([]);
    } finally {
      unsubscribe('net.client.socket', onSocket);
    }
  });

  it('counts its own CPU time per invocation and restores the previous dispatcher when stopped', async () => {
    const before = getGlobalDispatcher();
    const mock = serve(oneHost({}, 3));
    expect(getGlobalDispatcher()).not.toBe(before);
    for (const i of [0, 1, 2]) await (await request(`https://a.example/page/${i}`)).body.dump();
    expect(mock.mockCpuMs()).toBeGreaterThan(0);
    mock.beginInvocation();
    expect(mock.mockCpuMs()).toBe(0);
    mock.stop();
    expect(getGlobalDispatcher()).toBe(before);
  });
});

describe('the msw and undici backends in one process', () => {
  it('share one ReplayServer, so a host queue and token bucket count the requests of both clients', async () => {
    const scenario = scenarioSchema.parse({
      name: 'shared',
      seed: 5,
      requests: [{ host: 'a.example', count: 3 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 }, rateLimit: { rps: 1, burst: 2 } } },
    });
    backend = new UndiciBackend({ scenario, timeScale: 1 });
    const msw = new MswBackend({ scenario, timeScale: 1, server: backend.server });
    backend.start();
    msw.start();
    try {
      const viaFetch = await fetch('https://a.example/page/0');
      const viaUndici = await request('https://a.example/page/1');
      await viaUndici.body.dump();
      const third = await fetch('https://a.example/page/2');
      expect([viaFetch.status, viaUndici.statusCode, third.status]).toEqual([200, 200, 429]);
      expect(msw.server).toBe(backend.server);
    } finally {
      msw.stop();
    }
  });
});
