import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function gone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
}

describe('a function process on the way out', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`is killed, and its memory and CPU groups removed, when the harness gets ${signal} mid-invocation`, async () => {
      const harness = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/function-until-signal.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        harness.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
        });
        harness.once('exit', (code) => reject(new Error(`the harness exited first (${code})`)));
      });
      const { pid, paths } = JSON.parse(line) as { pid: number; paths: string[] };
      expect(gone(pid)).toBe(false);
      for (const path of paths) expect(readFileSync(`${path}/cgroup.procs`, 'utf8').trim()).toBe(String(pid));
      harness.kill(signal);
      const exit = await new Promise<NodeJS.Signals | null>((resolve) => harness.once('exit', (_code, sig) => resolve(sig)));
      expect(exit).toBe(signal);
      const start = Date.now();
      while (!gone(pid) && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gone(pid)).toBe(true);
      for (const path of paths) expect(existsSync(path)).toBe(false);
    }, 30_000);
  }
});
