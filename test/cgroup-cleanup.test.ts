import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCpuController } from '../harness/run/cgroup.ts';
import { scratchDir } from './helpers/scratch.ts';

const controller = detectCpuController();
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
const root = controller?.kind === 'cgroup-v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu';
if (!controller && !requireCgroup) console.log('skipping the cgroup clean-up test: no writable cgroup CPU controller here');

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('cgroup clean-up', () => {
  it.runIf(controller || requireCgroup)(
    'a sweep stopped with Ctrl-C (SIGINT) mid-cell leaves no cgroup and no cell process behind',
    async () => {
      expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
      const dir = scratchDir('cgroup');
      const out = join(dir, 'r.json');
      const sweep = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/sweep.ts',
          'scenarios/small-fast.json',
          '--concurrency',
          '1,2,4',
          '--memory',
          '512',
          '--reps',
          '3',
          '--no-report',
          '--out',
          out,
        ],
        {
          stdio: 'ignore',
        },
      );
      const ours = () => readdirSync(root).filter((name) => name.startsWith(`fanout-tuner-${sweep.pid}-`));
      // Wait until the first cell is running under its quota, then interrupt.
      await waitFor(() => ours().length > 0 && readFileSync(join(root, ours()[0]!, 'cgroup.procs'), 'utf8').trim() !== '', 30_000);
      const cellPid = Number(
        readFileSync(join(root, ours()[0]!, 'cgroup.procs'), 'utf8')
          .trim()
          .split('\n')[0],
      );
      sweep.kill('SIGINT');
      await new Promise((resolve) => sweep.once('exit', resolve));
      expect(ours()).toEqual([]);
      await waitFor(() => !existsSync(`/proc/${cellPid}`) || readFileSync(`/proc/${cellPid}/stat`, 'utf8').split(' ')[2] === 'Z', 5000);
    },
    60_000,
  );
});
