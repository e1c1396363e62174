import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectCpuController, LAMBDA_PERIOD_US, quotaFor, type CpuController } from '../harness/run/cgroup.ts';
import { CellStderr, runCell } from '../harness/run/cell-session.ts';
import { cpuShare } from '../harness/model/lambda.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';

/** Runs the CPU burner, confined to `cpus` cores when a controller is given; returns its wall and CPU time. */
async function burn(controller: CpuController | undefined, cpus: number): Promise<{ wallMs: number; cpuMs: number }> {
  const group = controller?.create(cpus);
  const child = fork(new URL('./fixtures/cpu-burner.mjs', import.meta.url));
  try {
    return await new Promise((resolve, reject) => {
      child.on('message', (message: { ready?: boolean; wallMs?: number; cpuMs?: number }) => {
        if (message.ready) {
          group?.attach(child.pid!);
          child.send('go');
        } else if (message.wallMs !== undefined && message.cpuMs !== undefined) resolve({ wallMs: message.wallMs, cpuMs: message.cpuMs });
      });
      child.on('error', reject);
    });
  } finally {
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    group?.remove();
  }
}

const controller = detectCpuController();
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
if (!controller && !requireCgroup) {
  console.log('skipping the CPU quota test: no writable cgroup CPU controller here (run as root on Linux; CI sets FANOUT_REQUIRE_CGROUP=1)');
}

describe('memory sizes as real constraints', () => {
  it.runIf(controller || requireCgroup)(
    'a CPU-bound job at 512 MB takes about 1769/512 times as long as at 1769 MB',
    async () => {
      expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
      const full = await burn(controller, cpuShare(1769));
      const small = await burn(controller, cpuShare(512));
      const expected = 1769 / 512;
      // The work's CPU time is its length on a whole core, even when other processes share the
      // machine and stretch the unconfined run's wall time.
      const slowdown = small.wallMs / Math.min(full.wallMs, full.cpuMs);
      expect(slowdown / expected).toBeGreaterThan(0.85);
      expect(slowdown / expected).toBeLessThan(1.15);
      // Every group the test created is gone.
      const root = controller!.kind === 'cgroup-v1' ? '/sys/fs/cgroup/cpu' : '/sys/fs/cgroup';
      expect(existsSync(root) ? readdirSync(root).filter((name) => name.startsWith(`fanout-tuner-${process.pid}-`)) : []).toEqual([]);
    },
    60_000,
  );

  it('a job that needs more memory than its size ends its cell as oom, and fits at a larger size', async () => {
    // 24 pages of 8 MB held at once: far over the 116 MB old space of a 128 MB function.
    const scenario = scenarioSchema.parse({
      name: 'oom',
      seed: 1,
      requests: [{ host: 'big.example', count: 24 }],
      hosts: { 'big.example': { latencyMs: { dist: 'fixed', value: 50 }, bodyBytes: { dist: 'fixed', value: 8_000_000 } } },
    });
    const job = { scenario, concurrency: 24, reps: 1, warmupInvocations: 0, warmupConcurrency: 24, timeScale: 1, invocationTimeoutMs: 60_000 };
    const small = await runCell({ ...job, memoryMb: 128 }, { lambdaMemoryMb: 128 });
    expect(small.state).toBe('oom');
    expect(small.state !== 'completed' && small.error).toBe('the job ran out of memory (heap limit 116 MB)');
    const large = await runCell({ ...job, memoryMb: 2048 }, { lambdaMemoryMb: 2048 });
    expect(large.state).toBe('completed');
    expect(large.reps[0]!.peakRssMb).toBeGreaterThan(200);
  }, 60_000);
});

describe("a cell process's end, read from its stderr", () => {
  // V8's report of a real out-of-memory cell (heap limit 150 MB, the lean msw path): the last
  // allocation fell in an object literal's map transition, and the native stack trace after the
  // "FATAL ERROR" line is 23 frames, longer than the 4 KB of stderr a cell keeps for its message.
  const report = readFileSync(new URL('./fixtures/v8-heap-oom-deep-stack.txt', import.meta.url), 'utf8');

  it('sees a heap out of memory whose native stack trace runs past the 4 KB kept, in chunks of any size', () => {
    expect(report.length - report.indexOf('FATAL ERROR')).toBeGreaterThan(4096);
    for (const size of [1, 7, 64, 100, 4096, report.length]) {
      const stderr = new CellStderr();
      for (let at = 0; at < report.length; at += size) stderr.write(report.slice(at, at + size));
      expect([size, stderr.ranOutOfMemory]).toEqual([size, true]);
      expect(stderr.cause()).toBe('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory');
    }
  });

  it('names a crash by its own line, not by a native stack frame or a JavaScript one', () => {
    const fatal = new CellStderr();
    fatal.write('\n#\n# Fatal JavaScript invalid size error 169220804\n#\n');
    fatal.write('----- Native stack trace -----\n\n 1: 0xb78db3 node::DumpBacktrace(_IO_FILE*) [/usr/bin/node]\n 2: 0x195e476  [/usr/bin/node]\n');
    expect([fatal.ranOutOfMemory, fatal.cause()]).toEqual([false, 'Fatal JavaScript invalid size error 169220804']);
    const thrown = new CellStderr();
    thrown.write('file:///job.mjs:3\n    throw new Error("the bucket is gone");\n\nError: the bucket is gone\n    at handler (file:///job.mjs:3:11)\n');
    expect([thrown.ranOutOfMemory, thrown.cause()]).toEqual([false, 'Error: the bucket is gone']);
    expect(new CellStderr().cause()).toBe('no error output');
  });

  it('ends as oom a cell whose process dies with that report, however long its stack trace', async () => {
    const scenario = scenarioSchema.parse({
      name: 'oom-deep-stack',
      seed: 1,
      requests: [{ host: 'a.example', count: 1 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 } } },
      workload: { module: fileURLToPath(new URL('./fixtures/handlers/dies-of-heap-oom-with-deep-stack.ts', import.meta.url)), export: 'handler' },
    });
    const job = { scenario, concurrency: 1, memoryMb: 128, reps: 1, warmupInvocations: 0, warmupConcurrency: 1, timeScale: 1, invocationTimeoutMs: 60_000 };
    const run = await runCell(job, { lambdaMemoryMb: 128 });
    expect([run.state, run.state !== 'completed' && run.error]).toEqual(['oom', 'the job ran out of memory (heap limit 116 MB)']);
  }, 60_000);
});

describe('the memory model where no cgroup can be made', () => {
  it('stretches the CPU time by 1769/memory and leaves the I/O time alone', async () => {
    const { projectRunToMemory } = await import('../harness/sweep/sweep.ts');
    const rep = {
      durationMs: 1000,
      cpuMs: 100,
      peakRssMb: 80,
      requests: 10,
      errors: 0,
      retries: 0,
      errorsByKind: { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 },
      requestLatenciesMs: [],
      unmockedRequests: [],
      mockFailures: [],
    };
    const projected = projectRunToMemory({ state: 'completed', reps: [rep] }, 442.25);
    // 900 ms of I/O + 100 ms of CPU at a quarter of a core
    expect(projected.reps[0]!.durationMs).toBeCloseTo(1300, 9);
    expect(projectRunToMemory({ state: 'completed', reps: [rep] }, 3008).reps[0]!.durationMs).toBe(1000);
  });
});

describe('the CPU quota of a memory size', () => {
  it('is memory/1769 of a core per 10 ms period, and below 177 MB stretches the period rather than round the quota up to the 1 ms minimum', () => {
    expect(quotaFor(cpuShare(1769))).toEqual({ periodUs: 10_000, quotaUs: 10_000 });
    expect(quotaFor(cpuShare(512))).toEqual({ periodUs: 10_000, quotaUs: 2894 });
    expect(quotaFor(2)).toEqual({ periodUs: 10_000, quotaUs: 20_000 });
    // 128 MB: 0.0724 of a core is a 1 ms quota per 13.8 ms, not 1 ms per 10 ms (0.1 of a core).
    const small = quotaFor(cpuShare(128));
    expect(small).toEqual({ periodUs: 13_820, quotaUs: 1000 });
    expect(small.quotaUs / small.periodUs).toBeCloseTo(128 / 1769, 4);
  });

  it("is throttled in Lambda's 20 ms periods when asked: 1.45 ms of every 20 at 128 MB", () => {
    expect(quotaFor(cpuShare(128), LAMBDA_PERIOD_US)).toEqual({ periodUs: 20_000, quotaUs: 1447 });
    expect(quotaFor(cpuShare(1769), LAMBDA_PERIOD_US)).toEqual({ periodUs: 20_000, quotaUs: 20_000 });
  });
});
