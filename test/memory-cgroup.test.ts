import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_PROCESSES } from '../harness/model/lambda.ts';
import { detectFunctionGroupController, memoryLimitBytes, readKey } from '../harness/run/cgroup.ts';

const controller = detectFunctionGroupController();
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
if (!controller && !requireCgroup) {
  console.log('skipping the memory cgroup tests: no writable cgroup memory controller here (run as root on Linux; CI sets FANOUT_REQUIRE_CGROUP=1)');
}

/** The Python binary itself, not a pyenv shim (which would run outside the group's limits first). */
const python = () => spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();

/** Runs Python code inside the group from its first instruction; resolves with how it ended. */
function runInGroup(procsFiles: readonly string[], code: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const writes = procsFiles.map((_, index) => `echo $$ > "$${index + 1}"`).join(' && ');
  const child = spawn('/bin/sh', ['-c', `${writes} && shift ${procsFiles.length} && exec "$@"`, 'join', ...procsFiles, python(), '-c', code], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout })));
}

const ALLOCATE = (mb: number) => `b = bytearray(${mb} * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1`;

describe("a function's memory group", () => {
  it('reads the flat-keyed counters of memory.oom_control, memory.events and cpu.stat', () => {
    expect(readKey('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'oom_kill')).toBe(2);
    expect(readKey('low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n', 'max')).toBe(17);
    expect(readKey('usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n', 'usage_usec')).toBe(123456);
    expect(readKey('oom_kill_disable 0\nunder_oom 0\n', 'oom_kill')).toBeUndefined();
    expect(memoryLimitBytes(128)).toBe(134_217_728);
  });

  it.runIf(controller || requireCgroup)(
    'limits the process tree to the memory size: 300 MB under 128 MB is OOM-killed and counted; 64 MB fits, with its peak and CPU time read back',
    async () => {
      expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup memory controller was found').toBeDefined();
      const fits = controller!.create({ memoryMb: 128, cpus: 1 });
      const killed = controller!.create({ memoryMb: 128 });
      try {
        expect(await runInGroup(fits.procsFiles, ALLOCATE(64))).toMatchObject({ code: 0, signal: null });
        const usage = fits.usage();
        expect(usage.peakMemoryBytes).toBeGreaterThan(64 * 1024 * 1024);
        expect(usage.peakMemoryBytes).toBeLessThanOrEqual(memoryLimitBytes(128));
        expect(usage.cpuUs).toBeGreaterThan(0);
        expect(usage.oomKills ?? 0).toBe(0);
        expect(fits.outOfMemory()).toBe(false);

        expect(await runInGroup(killed.procsFiles, ALLOCATE(300))).toMatchObject({ code: null, signal: 'SIGKILL' });
        expect(killed.outOfMemory()).toBe(true);
        const after = killed.usage();
        // The kill count where the kernel keeps one (v1 since Linux 4.13); else the limit hits tell.
        // (With the memory+swap limit set, v1's failcnt can stay 0 even as the OOM killer strikes.)
        if (after.oomKills !== undefined) expect(after.oomKills).toBeGreaterThanOrEqual(1);
        else expect(after.limitHits).toBeGreaterThan(0);
        expect(after.peakMemoryBytes).toBeLessThanOrEqual(memoryLimitBytes(128));
      } finally {
        fits.remove();
        killed.remove();
      }
      for (const path of [...fits.paths, ...killed.paths]) expect(existsSync(path)).toBe(false);
    },
    30_000,
  );
});

/** Starts threads that wait, until one will not start (or 2000 have), and prints how many started. */
const START_THREADS = `import threading
release = threading.Event()
started = []
try:
    while len(started) < 2000:
        thread = threading.Thread(target=release.wait)
        thread.start()
        started.append(thread)
except RuntimeError:
    pass
release.set()
print(len(started))`;

describe("a function's processes and threads", () => {
  it.runIf(controller?.holdsTasks || requireCgroup)(
    "number at most Lambda's 1,024 in its group: the thread past them does not start, and the group counts the refusal",
    async () => {
      expect(controller?.holdsTasks, 'FANOUT_REQUIRE_CGROUP=1 but no pids controller holds a function group here').toBe(true);
      const group = controller!.create({ memoryMb: 1769, tasks: LAMBDA_PROCESSES });
      try {
        expect(group.tasks).toBe(LAMBDA_PROCESSES);
        expect(group.usage().tasksRefused).toBe(0);
        const ran = await runInGroup(group.procsFiles, START_THREADS);
        expect(ran.code).toBe(0);
        // The interpreter's main thread counts too: 1,023 more started here.
        const started = Number(ran.stdout.trim());
        expect(started).toBeLessThan(LAMBDA_PROCESSES);
        expect(started).toBeGreaterThan(LAMBDA_PROCESSES - 10);
        expect(group.usage().tasksRefused).toBeGreaterThanOrEqual(1);
      } finally {
        group.remove();
      }
    },
    30_000,
  );
});
