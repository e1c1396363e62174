import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectCpuController, detectFunctionGroupController, removeStaleGroups } from '../harness/run/cgroup.ts';
import { LAMBDA_PROCESSES } from '../harness/model/lambda.ts';
import { loadResults } from '../harness/results/io.ts';
import { assertNamespaces, runFenced, namespaces } from './helpers/namespace.ts';
import { handlerFixtureScenario, writeScenario } from './helpers/scenario-files.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * No process of a sweep outlives it, however it ends, and its cgroups go with it:
 * - a SIGTERM to `bin/fanout-tuner.js` reaches the sweep (no second process in between), whose
 *   handlers end the cell and the processes the job started, with or without cgroups or fences;
 * - a cell whose sweep was killed with SIGKILL stops on its own;
 * - a group is removed even when the job left a process of its own in it;
 * - the next run removes the groups of a killed run, and only those: never a group it did not
 *   make, nor one of a run in another PID namespace, which a pid cannot tell alive or dead.
 * Every process a test starts carries FANOUT_TEST_SWEEP=<id>, which its descendants inherit: that
 * is how they are found (and, if a test fails, killed), apart from other sweeps on the machine.
 */

const controller = detectCpuController();
const cgroups = controller !== undefined;
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
const CPU_ROOT = controller?.kind === 'cgroup-v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu';
if (!cgroups && !requireCgroup) console.log('skipping the cgroup hygiene tests: no writable cgroup CPU controller here');

interface Started {
  id: string;
  work: string;
  markers: string;
  out: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

const started: Started[] = [];
const groupsToRemove: string[] = [];

/** Live (not zombie) processes that inherited the test's variable. */
function processesOf(id: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`FANOUT_TEST_SWEEP=${id}`)) continue;
      found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** What is still running of the test's processes once they had 5 s to end (a killed process takes a moment to be reaped). */
async function leftAfterSettling(id: string): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = processesOf(id).map((p) => `${p.pid} ${p.command}`);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((done) => setTimeout(done, 100));
  }
}

function startProcess(command: string, args: string[], extraEnv: Record<string, string> = {}, work = mkdtempSync(join(tmpdir(), 'fanout-hygiene-'))): Started {
  const id = randomUUID();
  const markers = join(work, 'markers');
  mkdirSync(markers);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FANOUT_TEST_MARKER_DIR: markers, FANOUT_TEST_SWEEP: id, ...extraEnv },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const run: Started = { id, work, markers, out: join(work, 'results.json'), child, exited, output: () => output };
  started.push(run);
  return run;
}

/** A sweep of one cell of `fixture`'s handler, through the bin (`viaBin`) or the script itself. */
function startSweep(fixture: string, flags: string[], viaBin: boolean, extraEnv: Record<string, string> = {}): Started {
  const work = mkdtempSync(join(tmpdir(), 'fanout-hygiene-scenario-'));
  const { file } = writeScenario(handlerFixtureScenario(work, fixture), work);
  const entry = viaBin ? ['bin/fanout-tuner.js', 'sweep'] : ['--import', 'tsx', 'scripts/sweep.ts'];
  const args = [...entry, file, '--memory', '1769', '--reps', '1', '--concurrency', '2', '--no-report', '--out', join(work, 'results.json'), ...flags];
  return startProcess(process.execPath, args, extraEnv, work);
}

function markerPids(run: Started, prefix: string): number[] {
  return readdirSync(run.markers)
    .filter((name) => name.startsWith(prefix))
    .map((name) => Number(name.slice(prefix.length)));
}

/** The pids of the cell in its timed invocation and of the process its job started, once both are running. */
async function cellAndItsChild(sweep: Started): Promise<{ cell: number; sleeper: number }> {
  const [cell] = await waitFor(`the cell's timed invocation (output so far: ${sweep.output()})`, () => {
    const cells = markerPids(sweep, 'started-');
    return cells.length > 0 ? cells : undefined;
  });
  const [sleeper] = markerPids(sweep, 'child-');
  return { cell: cell!, sleeper: sleeper! };
}

afterEach(() => {
  // Whatever a failed test left: its processes, its directories, its groups.
  for (const run of started.splice(0)) {
    for (const { pid } of processesOf(run.id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(run.work, { recursive: true, force: true });
  }
  for (const path of groupsToRemove.splice(0)) {
    for (let attempt = 0; attempt < 50 && existsSync(path); attempt++) {
      try {
        for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
        rmdirSync(path);
      } catch {
        spawnSync('sleep', ['0.05']);
      }
    }
  }
});

// The processes a job starts are found through /proc: Linux only.
describe.runIf(process.platform === 'linux')('a stopped sweep leaves no process behind', () => {
  for (const viaBin of [true, false]) {
    it(`SIGTERM to ${viaBin ? 'bin/fanout-tuner.js' : 'the sweep script'}, without cgroups or fence: the cell and the process its job started end, and so does the sweep, by SIGTERM`, async () => {
      const sweep = startSweep('spawns-and-hangs.ts', ['--isolation', 'none', '--cpu-throttle', 'none'], viaBin);
      const { cell, sleeper } = await cellAndItsChild(sweep);
      expect([alive(cell), alive(sleeper)]).toEqual([true, true]);
      sweep.child.kill('SIGTERM');
      expect(await sweep.exited).toEqual({ code: null, signal: 'SIGTERM' });
      expect(await leftAfterSettling(sweep.id)).toEqual([]);
    }, 30_000);
  }

  it('SIGKILL to the sweep: its cell stops on its own, with the process its job started', async () => {
    const sweep = startSweep('spawns-and-hangs.ts', ['--isolation', 'none', '--cpu-throttle', 'none'], false);
    const { cell, sleeper } = await cellAndItsChild(sweep);
    expect([alive(cell), alive(sleeper)]).toEqual([true, true]);
    sweep.child.kill('SIGKILL');
    expect(await sweep.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await leftAfterSettling(sweep.id)).toEqual([]);
  }, 30_000);

  it.runIf(runFenced)(
    'SIGKILL to a fenced sweep (under cgroups where there are): its fence host and cell stop on their own, and the next run removes its group',
    async () => {
      assertNamespaces();
      const stateDir = mkdtempSync(join(tmpdir(), 'fanout-hygiene-state-'));
      try {
        const sweep = startSweep('spawns-and-hangs.ts', ['--isolation', 'namespace'], false, { FANOUT_TUNER_STATE_DIR: stateDir });
        await waitFor(`the cell's timed invocation (output so far: ${sweep.output()})`, () => (markerPids(sweep, 'started-').length > 0 ? true : undefined));
        const groups = () => (cgroups ? readdirSync(CPU_ROOT).filter((name) => name.startsWith(`fanout-tuner-${sweep.child.pid}-`)) : []);
        groupsToRemove.push(...groups().map((name) => join(CPU_ROOT, name)));
        expect(groups().length).toBe(cgroups ? 1 : 0);
        sweep.child.kill('SIGKILL');
        expect(await sweep.exited).toEqual({ code: null, signal: 'SIGKILL' });
        expect(await leftAfterSettling(sweep.id)).toEqual([]);
        // A killed sweep cannot remove its group: the next one does.
        expect(removeStaleGroups(stateDir)).toBe(cgroups ? 1 : 0);
        expect(groups()).toEqual([]);
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});

describe.runIf(cgroups || requireCgroup)('cgroups are removed with the processes the job left in them', () => {
  it('SIGTERM to a sweep under a CPU quota: the cell, and the process its job started before the cell joined its group, end', async () => {
    expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
    const sweep = startSweep('spawns-and-hangs.ts', ['--isolation', 'none', '--cpu-throttle', 'cgroup'], false, { FANOUT_TEST_SPAWN_IN_WARMUP: '1' });
    const { cell, sleeper } = await cellAndItsChild(sweep);
    const group = readdirSync(CPU_ROOT).find((name) => name.startsWith(`fanout-tuner-${sweep.child.pid}-`));
    groupsToRemove.push(join(CPU_ROOT, group!));
    const members = readFileSync(join(CPU_ROOT, group!, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect([members.includes(cell), members.includes(sleeper), alive(sleeper)]).toEqual([true, false, true]);
    sweep.child.kill('SIGTERM');
    expect(await sweep.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await leftAfterSettling(sweep.id)).toEqual([]);
    expect(existsSync(join(CPU_ROOT, group!))).toBe(false);
  }, 30_000);

  it("a CPU group and a function's memory groups with a `sleep 1000` in them: removed, and the process killed", async () => {
    expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
    const functionGroups = detectFunctionGroupController();
    const groups = [controller!.create(1), ...(functionGroups ? [functionGroups.create({ memoryMb: 128, cpus: 1, tasks: LAMBDA_PROCESSES })] : [])];
    for (const group of groups) {
      const paths = 'paths' in group ? group.paths : [group.path];
      groupsToRemove.push(...paths);
      const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
      group.attach(sleeper.pid!);
      for (const path of paths) expect(readFileSync(join(path, 'cgroup.procs'), 'utf8').trim()).toBe(String(sleeper.pid));
      const exited = new Promise((done) => sleeper.once('exit', (_code, signal) => done(signal)));
      group.remove();
      expect(await exited).toBe('SIGKILL');
      expect(paths.filter((path) => existsSync(path))).toEqual([]);
    }
  }, 20_000);

  it("a sweep whose job leaves a process in the cell's CPU group (one init now owns) completes, and the group and the process are gone", async () => {
    expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
    const sweep = startSweep('leaves-a-process.ts', ['--isolation', 'none', '--cpu-throttle', 'cgroup'], false);
    expect(await sweep.exited, sweep.output()).toEqual({ code: 0, signal: null });
    expect(loadResults(sweep.out).cells.map((cell) => cell.state)).toEqual(['completed']);
    const sleepers = markerPids(sweep, 'child-');
    expect(sleepers.length).toBeGreaterThan(0);
    expect(readdirSync(CPU_ROOT).filter((name) => name.startsWith(`fanout-tuner-${sweep.child.pid}-`))).toEqual([]);
    await waitFor('the left process to be killed', () => (sleepers.every((pid) => !alive(pid)) ? true : undefined), 5000);
  }, 30_000);
});

/** Starts the group-holding fixture; resolves with what it made once it says so. */
async function startHolder(stateDir: string, args: string[], wrap: string[] = []): Promise<{ run: Started; path: string; paths: string[]; sleeper?: number }> {
  const command = [process.execPath, '--import', 'tsx', 'test/fixtures/cgroup-holder.ts', ...args];
  const run = startProcess(wrap.length > 0 ? wrap[0]! : command[0]!, [...wrap.slice(1), ...(wrap.length > 0 ? command : command.slice(1))], {
    FANOUT_TUNER_STATE_DIR: stateDir,
  });
  const line = await waitFor(`the holder's line (output so far: ${run.output()})`, () =>
    run
      .output()
      .split('\n')
      .find((text) => text.startsWith('{')),
  );
  const made = JSON.parse(line) as { path: string; paths: string[]; sleeper?: number };
  groupsToRemove.push(...made.paths);
  return { run, ...made };
}

/** A pid no process of this namespace has now, from `from` up. */
function freePid(from: number): number {
  for (let pid = from; ; pid++) if (!existsSync(`/proc/${pid}`)) return pid;
}

describe.runIf(cgroups || requireCgroup)("the next run removes a killed run's groups, and only those", () => {
  it('removes the group of a run killed with SIGKILL (and the process in it), and leaves groups named like ours that no record of ours lists', async () => {
    expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
    const stateDir = mkdtempSync(join(tmpdir(), 'fanout-hygiene-state-'));
    try {
      const holder = await startHolder(stateDir, ['--with-process']);
      holder.run.child.kill('SIGKILL');
      await holder.run.exited;
      expect([existsSync(holder.path), alive(holder.sleeper!)]).toEqual([true, true]);
      // Named as this tool names its groups (the old way, and the new one), by a run that is gone: but not made by it.
      const dead = freePid(90_000);
      const foreign = [join(CPU_ROOT, `fanout-tuner-${dead}-0`), join(CPU_ROOT, `fanout-tuner-${dead}-12345-0`)];
      for (const path of foreign) {
        mkdirSync(path);
        groupsToRemove.push(path);
      }
      expect(removeStaleGroups(stateDir)).toBe(1);
      expect([existsSync(holder.path), ...foreign.map((path) => existsSync(path))]).toEqual([false, true, true]);
      await waitFor('the process in the stale group to be killed', () => (alive(holder.sleeper!) ? undefined : true), 5000);
      // The record goes with the groups it listed.
      expect(readdirSync(stateDir)).toEqual([]);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 20_000);

  it("removes a killed run's function groups, its processes and threads group with them", async () => {
    const functionGroups = detectFunctionGroupController();
    expect(functionGroups?.holdsTasks, 'FANOUT_REQUIRE_CGROUP=1 but no pids controller holds a function group here').toBe(true);
    const stateDir = mkdtempSync(join(tmpdir(), 'fanout-hygiene-state-'));
    try {
      const holder = await startHolder(stateDir, ['--function-group', '--with-process']);
      holder.run.child.kill('SIGKILL');
      await holder.run.exited;
      const tasksGroup = holder.paths.find((path) => existsSync(join(path, 'pids.max')));
      expect(tasksGroup, `no group with a pids.max among ${holder.paths.join(', ')}`).toBeDefined();
      expect(readFileSync(join(tasksGroup!, 'pids.max'), 'utf8').trim()).toBe('1024');
      expect(removeStaleGroups(stateDir)).toBe(holder.paths.length);
      expect(holder.paths.filter((path) => existsSync(path))).toEqual([]);
      await waitFor('the process in the stale group to be killed', () => (alive(holder.sleeper!) ? undefined : true), 5000);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 20_000);

  it.runIf(runFenced)(
    'leaves the group of a live run in another PID namespace, whose pid is no process here',
    async () => {
      expect(controller, 'FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found').toBeDefined();
      expect(namespaces.available, 'FANOUT_REQUIRE_NAMESPACE=1 but namespaces are missing').toBe(true);
      const stateDir = mkdtempSync(join(tmpdir(), 'fanout-hygiene-state-'));
      try {
        // Inside a fresh PID namespace pids count from 1: spend them until the holder's is one no
        // process has out here, so that a check by pid would find its run "dead".
        const target = freePid(200);
        const holder = await startHolder(
          stateDir,
          [],
          [
            'unshare',
            '--pid',
            '--fork',
            '--kill-child',
            '--',
            'sh',
            '-c',
            `i=2; while [ $i -lt ${target} ]; do /bin/true; i=$((i+1)); done; "$@" & wait`,
            'spend-pids',
          ],
        );
        expect(holder.path).toContain(`/fanout-tuner-${target}-`);
        expect(existsSync(`/proc/${target}`)).toBe(false);
        expect(removeStaleGroups(stateDir)).toBe(0);
        expect(existsSync(holder.path)).toBe(true);
        expect(readdirSync(stateDir).length).toBe(1);
        holder.run.child.kill('SIGKILL');
        await holder.run.exited;
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
    20_000,
  );
});
