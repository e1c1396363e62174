import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDirsOfDeadRuns } from '../harness/run/temp-dirs.ts';

/**
 * A run killed with SIGKILL leaves its temporary directories; the next run removes those, and
 * only those: named by this tool, of a process that is gone.
 */

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has certainly ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe("the sweep's temporary directories", () => {
  it("removes a dead run's directories of that kind, and keeps a live run's, another kind's and anything else", () => {
    root = mkdtempSync(join(tmpdir(), 'fanout-temp-dirs-'));
    const dead = deadPid();
    const names = {
      deadFence: `fanout-tuner-fence-${dead}-AbC123`,
      liveFence: `fanout-tuner-fence-${process.ppid}-XyZ789`,
      deadTls: `fanout-tuner-tls-${dead}-AbC123`,
      notOurs: `fanout-tuner-fence-notes`,
      similar: `fanout-tuner-fence-${dead}-toolongname`,
    };
    for (const name of Object.values(names)) mkdirSync(join(root, name));
    expect(removeDirsOfDeadRuns('fence', root)).toBe(1);
    expect(existsSync(join(root, names.deadFence))).toBe(false);
    for (const kept of [names.liveFence, names.deadTls, names.notOurs, names.similar]) expect(existsSync(join(root, kept))).toBe(true);
  });

  it("names a new directory by kind and this process, clearing dead runs' leftovers the first time", () => {
    root = mkdtempSync(join(tmpdir(), 'fanout-temp-dirs-'));
    const leftover = join(root, `fanout-tuner-runtime-${deadPid()}-Q1w2E3`);
    mkdirSync(leftover);
    const made = makeTempDir('runtime', root);
    expect(made).toMatch(new RegExp(`/fanout-tuner-runtime-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(existsSync(leftover)).toBe(false);
    // Its own directory is never a dead run's.
    expect(removeDirsOfDeadRuns('runtime', root)).toBe(0);
    expect(existsSync(made)).toBe(true);
  });
});
