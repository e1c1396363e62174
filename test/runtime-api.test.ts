import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFunctionGroupController, memoryLimitBytes } from '../harness/run/cgroup.ts';
import { LAMBDA_FILE_DESCRIPTORS, lambdaNodeHeap } from '../harness/model/lambda.ts';
import { fileDescriptorQuotaApplies } from '../harness/run/lambda-quotas.ts';
import { RuntimeApi, type InvocationResult } from '../harness/runtime/runtime-api.ts';
import { withFunction } from './helpers/lambda-function.ts';

const urls = { urls: ['https://a.example/1', 'https://a.example/2', 'https://b.example/3'] };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:fixture';

function completed(result: InvocationResult): Record<string, unknown> {
  if (result.state !== 'completed') throw new Error(`expected completed, got ${JSON.stringify(result)}`);
  return result.response as Record<string, unknown>;
}

describe('the Python runtime client against the Runtime API', () => {
  it('imports the handler, passes the event and the context, and returns its result; warm invocations reuse the process', async () => {
    await withFunction({ language: 'python', dir: 'python', handler: 'app.lambda_handler', concurrency: 8 }, async (api, child) => {
      const init = await api.init;
      expect(init.state).toBe('ready');
      expect(init.initDurationMs).toBeGreaterThan(0);
      for (let i = 0; i < 2; i++) {
        const result = await api.invoke(urls, { timeoutMs: 3000 });
        const { remaining, aws_request_id, ...rest } = completed(result);
        expect(rest).toEqual({
          n: 3,
          max_workers: '8',
          function_name: 'fixture',
          memory_limit_in_mb: '512',
          function_version: '$LATEST',
          invoked_function_arn: ARN,
          tz: ':UTC',
          region: 'eu-west-1',
        });
        expect(remaining).toBeGreaterThan(0);
        expect(remaining).toBeLessThanOrEqual(3000);
        expect(aws_request_id).toMatch(UUID);
        expect(result.state === 'completed' && result.durationMs).toBeGreaterThan(0);
        expect(result.state === 'completed' && result.durationMs).toBeLessThan(1000);
      }
      expect(api.initError).toBeUndefined();
      expect(child.pid).toBeGreaterThan(0);
    });
  });

  it('finds a handler in a dotted subpackage', async () => {
    await withFunction({ language: 'python', dir: 'python', handler: 'pkg.sub.nested.handler' }, async (api) => {
      expect(completed(await api.invoke({ a: 1 }, { timeoutMs: 3000 }))).toEqual({ nested: true, event: { a: 1 } });
    });
  });

  it("reports an exception as the invocation error: message, type and the handler's stack", async () => {
    await withFunction({ language: 'python', dir: 'python', handler: 'app.fails' }, async (api) => {
      const result = await api.invoke(urls, { timeoutMs: 3000 });
      expect(result.state).toBe('errored');
      if (result.state !== 'errored') return;
      expect(result.errorType).toBe('ValueError');
      expect(result.errorMessage).toBe('boom');
      expect(result.stackTrace?.join('')).toContain('app.py');
      expect(result.stackTrace?.join('')).not.toContain('bootstrap.py');
      // The process goes on serving.
      expect((await api.invoke(urls, { timeoutMs: 3000 })).state).toBe('errored');
    });
  });

  it('times out an invocation that runs past the function timeout', async () => {
    await withFunction({ language: 'python', dir: 'python', handler: 'app.sleeps' }, async (api) => {
      const result = await api.invoke({ seconds: 5 }, { timeoutMs: 400 });
      expect(result.state).toBe('timeout');
      expect(result.state === 'timeout' && result.durationMs).toBeGreaterThanOrEqual(399);
      expect(result.state === 'timeout' && result.durationMs).toBeLessThan(1000);
    });
  });

  it('reports a handler that cannot be imported as an init error, and exits non-zero', async () => {
    await withFunction({ language: 'python', dir: 'python-broken', handler: 'app.lambda_handler' }, async (api, child) => {
      const init = await api.init;
      expect(init).toMatchObject({
        state: 'init-error',
        errorType: 'Runtime.ImportModuleError',
        errorMessage: "Unable to import module 'app': No module named 'a_module_that_is_not_installed'",
      });
      expect(await api.invoke(urls, { timeoutMs: 3000 })).toEqual({
        state: 'init-error',
        errorType: 'Runtime.ImportModuleError',
        errorMessage: "Unable to import module 'app': No module named 'a_module_that_is_not_installed'",
      });
      expect((await child.exited).exitCode).toBe(1);
    });
  });
});

describe('the Node runtime client against the Runtime API', () => {
  it('runs an async ESM handler (.js under "type": "module") with the context and environment', async () => {
    await withFunction({ language: 'node', dir: 'node-esm', handler: 'app.handler', concurrency: 16, memoryMb: 1024 }, async (api) => {
      expect((await api.init).state).toBe('ready');
      const { remaining, awsRequestId, ...rest } = completed(await api.invoke(urls, { timeoutMs: 3000 }));
      expect(rest).toEqual({ n: 3, max_workers: '16', functionName: 'fixture', memoryLimitInMB: '1024', functionVersion: '$LATEST', invokedFunctionArn: ARN });
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(3000);
      expect(awsRequestId).toMatch(UUID);
    });
  });

  it("runs with the heap Lambda's Node runtime gives the memory size, and gc() exposed", async () => {
    for (const memoryMb of [128, 1024]) {
      await withFunction({ language: 'node', dir: 'node-esm', handler: 'app.heap', memoryMb }, async (api) => {
        const { heapLimitMb, gc } = completed(await api.invoke({}, { timeoutMs: 3000 })) as { heapLimitMb: number; gc: string };
        expect(gc).toBe('function');
        // V8's limit is the old space (116 MB at 128, 922 at 1024) and the young generation;
        // without the flags it is about 4 GB on this machine, whatever the size.
        const { oldSpaceMb, semiSpaceMb } = lambdaNodeHeap(memoryMb);
        expect(heapLimitMb).toBeGreaterThanOrEqual(oldSpaceMb + 2 * semiSpaceMb);
        expect(heapLimitMb).toBeLessThanOrEqual(oldSpaceMb + 8 * semiSpaceMb);
      });
    }
  });

  it('reports a rejected promise as the invocation error', async () => {
    await withFunction({ language: 'node', dir: 'node-esm', handler: 'app.fails' }, async (api) => {
      const result = await api.invoke(urls, { timeoutMs: 3000 });
      expect(result).toMatchObject({ state: 'errored', errorType: 'TypeError', errorMessage: 'boom' });
      expect(result.state === 'errored' && result.stackTrace?.[0]).toBe('TypeError: boom');
    });
  });

  it('times out an async handler that runs past the function timeout', async () => {
    await withFunction({ language: 'node', dir: 'node-esm', handler: 'app.sleeps' }, async (api) => {
      const result = await api.invoke({ seconds: 5 }, { timeoutMs: 300 });
      expect(result.state).toBe('timeout');
    });
  });

  it('runs a callback-style CommonJS handler, answering once the event loop is empty', async () => {
    await withFunction({ language: 'node', dir: 'node-cjs', handler: 'app.handler', concurrency: 4 }, async (api) => {
      const result = await api.invoke(urls, { timeoutMs: 3000 });
      const { remaining, ...rest } = completed(result);
      expect(rest).toEqual({ n: 3, max_workers: '4' });
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(3000);
      // The handler's 150 ms timer holds the answer back, as in Lambda.
      expect(result.state === 'completed' && result.durationMs).toBeGreaterThanOrEqual(140);
    });
  });

  it('answers at once when the handler sets callbackWaitsForEmptyEventLoop = false', async () => {
    await withFunction({ language: 'node', dir: 'node-cjs', handler: 'app.noWait' }, async (api) => {
      const result = await api.invoke(urls, { timeoutMs: 3000 });
      expect(completed(result)).toBe('now');
      expect(result.state === 'completed' && result.durationMs).toBeLessThan(1000);
    });
  });

  it('reports an error passed to the callback', async () => {
    await withFunction({ language: 'node', dir: 'node-cjs', handler: 'app.fails' }, async (api) => {
      expect(await api.invoke(urls, { timeoutMs: 3000 })).toMatchObject({ state: 'errored', errorType: 'RangeError', errorMessage: 'boom' });
    });
  });

  it('reports a module that cannot be imported as an init error, and exits non-zero', async () => {
    await withFunction({ language: 'node', dir: 'node-broken', handler: 'app.handler' }, async (api, child) => {
      const init = await api.init;
      expect(init.state).toBe('init-error');
      expect(init.state === 'init-error' && init.errorType).toBe('Runtime.ImportModuleError');
      expect(init.state === 'init-error' && init.errorMessage).toContain("Cannot find package 'a-package-that-is-not-installed'");
      expect((await child.exited).exitCode).toBe(1);
    });
  });
});

const groups = detectFunctionGroupController();
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
if (!groups && !requireCgroup)
  console.log('skipping the out-of-memory tests: no writable cgroup memory controller here (run as root on Linux; CI sets FANOUT_REQUIRE_CGROUP=1)');

describe("a function's file descriptors", () => {
  for (const language of ['python', 'node'] as const) {
    it.runIf(fileDescriptorQuotaApplies() || process.env.CI)(`${language}: holds no more than Lambda's 1,024 at once`, async () => {
      const fixture = language === 'python' ? { dir: 'python', handler: 'app.opens_files' } : { dir: 'node-esm', handler: 'app.opensFiles' };
      await withFunction({ language, ...fixture }, async (api) => {
        const { stopped, opened } = completed(await api.invoke({}, { timeoutMs: 10_000 })) as { stopped: string; opened: number };
        expect(stopped).toBe('EMFILE');
        // The runtime's own descriptors (its interpreter, its connection to the Runtime API) count too.
        expect(opened).toBeLessThan(LAMBDA_FILE_DESCRIPTORS);
        expect(opened).toBeGreaterThan(LAMBDA_FILE_DESCRIPTORS - 100);
      });
    });
  }
});

describe('a function that needs more memory than its size', () => {
  for (const language of ['python', 'node'] as const) {
    it.runIf(groups || requireCgroup)(
      `${language}: fits at 64 MB of 128, then is OOM-killed allocating 300 MB, reported as Lambda reports it and counted by the cgroup`,
      async () => {
        expect(groups, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup memory controller was found').toBeDefined();
        const group = groups!.create({ memoryMb: 128 });
        try {
          const fixture = language === 'python' ? { dir: 'python', handler: 'app.allocates' } : { dir: 'node-esm', handler: 'app.allocates' };
          await withFunction({ language, ...fixture, memoryMb: 128, group }, async (api, child) => {
            expect(await api.invoke({ mb: 64 }, { timeoutMs: 10_000 })).toMatchObject({
              state: 'completed',
              response: language === 'python' ? 64 * 1024 * 1024 : 64,
            });
            const peak = group.usage().peakMemoryBytes!;
            expect(peak).toBeGreaterThan(64 * 1024 * 1024);
            expect(peak).toBeLessThanOrEqual(memoryLimitBytes(128));
            const result = await api.invoke({ mb: 300 }, { timeoutMs: 10_000 });
            expect(result).toMatchObject({ state: 'errored', errorType: 'Runtime.OutOfMemory' });
            expect(result.state === 'errored' && result.errorMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed$/);
            expect(await child.exited).toEqual({ exitCode: null, signal: 'SIGKILL', outOfMemory: true });
            const usage = group.usage();
            if (usage.oomKills !== undefined) expect(usage.oomKills).toBeGreaterThanOrEqual(1);
            expect(usage.cpuUs).toBeGreaterThan(0);
          });
        } finally {
          group.remove();
        }
        for (const path of group.paths) expect(existsSync(path)).toBe(false);
      },
      30_000,
    );
  }
});

describe('the Runtime API itself', () => {
  async function post(api: RuntimeApi, path: string, body: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://${api.address}/2018-06-01/runtime${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await response.json() };
  }

  it('hands out one event at a time with the documented headers, and refuses answers for other request ids', async () => {
    const api = await RuntimeApi.start({ host: '127.0.0.1', port: 0, functionName: 'f', region: 'us-west-2', accountId: '111122223333' });
    try {
      const first = api.invoke({ i: 1 }, { timeoutMs: 2000 });
      const second = api.invoke({ i: 2 }, { timeoutMs: 2000 });
      const before = Date.now();
      const next = await fetch(`http://${api.address}/2018-06-01/runtime/invocation/next`);
      expect(next.status).toBe(200);
      expect(await next.json()).toEqual({ i: 1 });
      const id = next.headers.get('lambda-runtime-aws-request-id')!;
      expect(id).toMatch(UUID);
      const deadline = Number(next.headers.get('lambda-runtime-deadline-ms'));
      expect(deadline).toBeGreaterThanOrEqual(before + 2000);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 2000);
      expect(next.headers.get('lambda-runtime-invoked-function-arn')).toBe('arn:aws:lambda:us-west-2:111122223333:function:f');
      expect(next.headers.get('lambda-runtime-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      expect(await post(api, '/invocation/not-the-id/response', '{}')).toEqual({
        status: 400,
        body: { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' },
      });
      expect(await post(api, `/invocation/${id}/response`, '{"ok":true}')).toEqual({ status: 202, body: { status: 'OK' } });
      expect(await first).toMatchObject({ state: 'completed', response: { ok: true } });
      // Answered once: a second answer is refused.
      expect((await post(api, `/invocation/${id}/response`, '{}')).status).toBe(400);
      const next2 = await fetch(`http://${api.address}/2018-06-01/runtime/invocation/next`);
      expect(await next2.json()).toEqual({ i: 2 });
      const id2 = next2.headers.get('lambda-runtime-aws-request-id')!;
      // Node's client sends `trace`, the type may come only in the header.
      const response = await fetch(`http://${api.address}/2018-06-01/runtime/invocation/${id2}/error`, {
        method: 'POST',
        body: JSON.stringify({ errorMessage: 'nope', trace: ['Error: nope', '    at x'] }),
        headers: { 'Lambda-Runtime-Function-Error-Type': 'Custom.Error' },
      });
      expect(response.status).toBe(202);
      expect(await second).toMatchObject({ state: 'errored', errorType: 'Custom.Error', errorMessage: 'nope', stackTrace: ['Error: nope', '    at x'] });
    } finally {
      await api.close();
    }
  });

  it('answers waiting and later invocations with the init error, and an init error after INIT is refused', async () => {
    const api = await RuntimeApi.start({ host: '127.0.0.1', port: 0 });
    try {
      const waiting = api.invoke({}, { timeoutMs: 1000 });
      expect(await post(api, '/init/error', JSON.stringify({ errorMessage: 'no', errorType: 'Runtime.HandlerNotFound', stackTrace: [] }))).toEqual({
        status: 202,
        body: { status: 'OK' },
      });
      expect(await waiting).toEqual({ state: 'init-error', errorType: 'Runtime.HandlerNotFound', errorMessage: 'no' });
      expect(await api.invoke({}, { timeoutMs: 1000 })).toEqual({ state: 'init-error', errorType: 'Runtime.HandlerNotFound', errorMessage: 'no' });
      expect(api.initError).toEqual({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'no' });
      expect((await post(api, '/init/error', '{}')).status).toBe(403);
    } finally {
      await api.close();
    }
  });

  it('fails the invocation being served when the runtime exits, as Lambda reports it', async () => {
    const api = await RuntimeApi.start({ host: '127.0.0.1', port: 0 });
    try {
      const pending = api.invoke({}, { timeoutMs: 5000 });
      const next = await fetch(`http://${api.address}/2018-06-01/runtime/invocation/next`);
      const id = next.headers.get('lambda-runtime-aws-request-id');
      api.runtimeExited({ exitCode: null, signal: 'SIGKILL', outOfMemory: true });
      expect(await pending).toMatchObject({
        state: 'errored',
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${id} Error: Runtime exited with error: signal: killed`,
      });
    } finally {
      await api.close();
    }
  });
});
