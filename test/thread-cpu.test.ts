import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fileDescriptorQuotaApplies, underFileDescriptorQuota } from '../harness/run/lambda-quotas.ts';

describe("the main thread's CPU clock", () => {
  it.runIf(fileDescriptorQuotaApplies() || process.env.CI)('reads on while the job holds every file descriptor its quota allows', () => {
    const command = underFileDescriptorQuota({ command: process.execPath, args: ['--import', 'tsx', 'test/fixtures/clock-without-descriptors.ts'] }, 256);
    const run = spawnSync(command.command, command.args, { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as { clock: boolean; stopped: string; readError: string; spunMs: number };
    expect(seen).toMatchObject({ clock: true, stopped: 'EMFILE', readError: '' });
    // A 100 ms spin of the main thread, read while no file could be opened.
    expect(seen.spunMs).toBeGreaterThan(50);
    expect(seen.spunMs).toBeLessThan(1000);
  });
});
