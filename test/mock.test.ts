import { afterEach, describe, expect, it } from 'vitest';
import { MswBackend } from '../harness/mock/msw-backend.ts';
import { scenarioSchema, type ScenarioInput } from '../harness/scenario/schema.ts';
import { parseHtml, parseJson } from '../harness/workload/parse.ts';
import { BodyFactory } from '../harness/mock/bodies.ts';

let backend: MswBackend | undefined;
afterEach(() => backend?.stop());

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
      requests: [{ host: 'err.example', count: 1 }, { host: 'reset.example', count: 1 }],
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
    const attempt = await timed(() => fetch('https://slow.example/page/0', { signal: AbortSignal.timeout(150) }).then(() => 'answered', (e: Error) => e.name));
    expect(attempt.value).toBe('TimeoutError');
    expect(attempt.ms / 150).toBeGreaterThan(0.95);
  });

  it('refuse a host the scenario does not define, naming the URL', async () => {
    serve({ requests: [{ host: 'a.example', count: 1 }], hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 } } } });
    await expect(fetch('https://elsewhere.example/secret')).rejects.toThrow();
    expect(backend!.unmockedRequests()).toEqual(['https://elsewhere.example/secret']);
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
