import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selfIdentity } from '../harness/run/run-identity.ts';
import { makeTempDir, madeByEndedRun, removeDirsOfDeadRuns, RUN_RECORD } from '../harness/run/temp-dirs.ts';

/**
 * A run killed with SIGKILL leaves its temporary directories; the next run removes those, and
 * only those: named by this tool, holding the record of a run that has ended.
 */

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has certainly ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** A directory as a run makes it: named, and holding that run's record. */
function dirOfRun(name: string, run: object | undefined): string {
  const dir = join(root, name);
  mkdirSync(dir);
  if (run) writeFileSync(join(dir, RUN_RECORD), JSON.stringify(run));
  return dir;
}

describe("the sweep's temporary directories", () => {
  it("removes an ended run's directories of that kind, and keeps a live run's, another kind's, one without a record and anything else", () => {
    root = mkdtempSync(join(tmpdir(), 'fanout-temp-dirs-'));
    const me = selfIdentity();
    const dead = deadPid();
    const ended = { ...me, pid: dead, startTicks: '1' };
    const dirs = {
      endedFence: dirOfRun(`fanout-tuner-fence-${dead}-AbC123`, ended),
      liveFence: dirOfRun(`fanout-tuner-fence-${process.pid}-XyZ789`, me),
      endedTls: dirOfRun(`fanout-tuner-tls-${dead}-AbC123`, ended),
      // The pid is gone, but nothing says which run made it (an older version, or not this tool).
      noRecord: dirOfRun(`fanout-tuner-fence-${dead}-NoRec1`, undefined),
      // A run in another PID namespace: its pid names nothing here, so it is never judged ended.
      otherNamespace: dirOfRun(`fanout-tuner-fence-${dead}-OtherN`, { ...ended, pidNamespace: 'pid:[1]' }),
      notOurs: dirOfRun('fanout-tuner-fence-notes', ended),
      similar: dirOfRun(`fanout-tuner-fence-${dead}-toolongname`, ended),
    };
    expect(removeDirsOfDeadRuns('fence', root)).toBe(1);
    expect(existsSync(dirs.endedFence)).toBe(false);
    for (const kept of [dirs.liveFence, dirs.endedTls, dirs.noRecord, dirs.otherNamespace, dirs.notOurs, dirs.similar]) expect(existsSync(kept)).toBe(true);
  });

  it("names a new directory by kind and this process, records the run in it, and clears ended runs' leftovers the first time", () => {
    root = mkdtempSync(join(tmpdir(), 'fanout-temp-dirs-'));
    const leftover = dirOfRun(`fanout-tuner-runtime-${deadPid()}-Q1w2E3`, { ...selfIdentity(), pid: deadPid(), startTicks: '1' });
    const made = makeTempDir('runtime', root);
    expect(made).toMatch(new RegExp(`/fanout-tuner-runtime-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(existsSync(leftover)).toBe(false);
    // Its own directory is never an ended run's.
    expect(madeByEndedRun(made)).toBe(false);
    expect(removeDirsOfDeadRuns('runtime', root)).toBe(0);
    expect(existsSync(made)).toBe(true);
  });
});

describe("a run's bundles of its child processes", () => {
  it('a run stopped by SIGTERM while its bundle is being built leaves no directory behind, though the build finished during its clean-up', async () => {
    const cache = resolve('node_modules/.cache/fanout-tuner');
    // Built, not served from a bundle an earlier run kept (harness/run/kept-bundle.ts): the signal must land in the build.
    rmSync(join(cache, 'kept-signal-probe'), { recursive: true, force: true });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/bundle-until-signal.ts', 'signal-probe'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => done(signal)));
    let stdout = '';
    await new Promise<void>((started) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('bundling')) started();
      }),
    );
    // The build takes about 0.2 s here: the signal lands in it.
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(stdout).not.toContain('bundled');
    // The fixture's clean-up held the process for 0.5 s, as a sweep's does, while the build went on
    // in esbuild's own process; whatever that process would write is written by now.
    await new Promise((done) => setTimeout(done, 1500));
    const left = existsSync(cache) ? readdirSync(cache).filter((name) => name === `signal-probe-${child.pid}`) : [];
    for (const name of left) rmSync(join(cache, name), { recursive: true, force: true });
    expect(left).toEqual([]);
  });
});
