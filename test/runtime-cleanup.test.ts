import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleGroups } from '../harness/run/cgroup.ts';

/** Starts the fixture harness; resolves with the function's pid and groups once it is mid-invocation. */
async function startHarness(env: Record<string, string> = {}) {
  const harness = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/function-until-signal.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    harness.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
    });
    harness.once('exit', (code) => reject(new Error(`the harness exited first (${code})`)));
  });
  return { harness, ...(JSON.parse(line) as { pid: number; paths: string[] }) };
}

async function waitUntilGone(pid: number): Promise<void> {
  const start = Date.now();
  while (!gone(pid) && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 50));
}

function gone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
}

describe('a function process on the way out', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`is killed, and its memory and CPU groups removed, when the harness gets ${signal} mid-invocation`, async () => {
      const { harness, pid, paths } = await startHarness();
      expect(gone(pid)).toBe(false);
      for (const path of paths) expect(readFileSync(`${path}/cgroup.procs`, 'utf8').trim()).toBe(String(pid));
      harness.kill(signal);
      const exit = await new Promise<NodeJS.Signals | null>((resolve) => harness.once('exit', (_code, sig) => resolve(sig)));
      expect(exit).toBe(signal);
      await waitUntilGone(pid);
      expect(gone(pid)).toBe(true);
      for (const path of paths) expect(existsSync(path)).toBe(false);
    }, 30_000);
  }

  it('ends mid-invocation when the harness is killed with SIGKILL, and the next run removes its groups', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'fanout-runtime-state-'));
    const { harness, pid, paths } = await startHarness({ FANOUT_TUNER_STATE_DIR: stateDir });
    try {
      expect(gone(pid)).toBe(false);
      harness.kill('SIGKILL');
      await new Promise((resolve) => harness.once('exit', resolve));
      await waitUntilGone(pid);
      expect(gone(pid)).toBe(true);
      // A harness killed so cannot remove its groups: the next run does (none where there are no cgroups).
      expect(removeStaleGroups(stateDir)).toBe(paths.length);
      for (const path of paths) expect(existsSync(path)).toBe(false);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
      removeStaleGroups(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 30_000);
});
