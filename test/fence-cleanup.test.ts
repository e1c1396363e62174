import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCpuController } from '../harness/run/cgroup.ts';
import { loadResults } from '../harness/results/io.ts';
import type { ScenarioInput } from '../harness/scenario/schema.ts';
import { assertNamespaces, runFenced, skipNote } from './helpers/namespace.ts';
import { handlerFixtureScenario, quickScenario, writeScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * However a fenced sweep ends (normally, by Ctrl-C, by SIGTERM, or with a cell that crashed), it
 * leaves nothing behind: no cgroup of its own, no process in another network namespace, no fence
 * host or cell process, no fence or TLS directory in its temporary directory, no bundle of its own.
 * Each sweep gets a TMPDIR of its own, so every directory found there was made by it, and a
 * variable of its own (FANOUT_TEST_SWEEP), which every process it starts inherits: other sweeps
 * running on the same machine meanwhile (another checkout's tests) are not mistaken for its leftovers.
 */

const BUNDLE_CACHE = resolve('node_modules/.cache/fanout-tuner');
const controller = detectCpuController();
const CGROUP_ROOT = controller?.kind === 'cgroup-v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu';
/** With a writable CPU controller the sweeps put their cells under quotas, and the tests look for the groups. */
const cgroups = controller !== undefined;
const requireCgroup = process.env.FANOUT_REQUIRE_CGROUP === '1';
const OWN_NET = readlinkSync('/proc/self/ns/net');

skipNote('the fence clean-up tests');
if (runFenced && !cgroups) console.log('the fence clean-up tests do not look at cgroups here: no writable cgroup CPU controller');

interface ProcessInfo {
  pid: number;
  net: string;
  command: string;
  environment: string[];
}

/** Every live (not zombie) process whose namespace and command line can be read. */
function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push({
        pid: Number(entry),
        net: readlinkSync(`/proc/${entry}/ns/net`),
        command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim(),
        environment: readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0'),
      });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** A fence host, or a cell process (bundled, or with the loader for a user's handler), of this checkout. */
function isSweepChild(command: string): boolean {
  return (
    command.includes('fence-host') ||
    command.includes(BUNDLE_CACHE) ||
    command.includes(resolve('harness/run/cell-process.ts')) ||
    command.includes('probe-child')
  );
}

interface Leftovers {
  cgroups: string[];
  otherNamespaces: string[];
  sweepProcesses: string[];
  tmpEntries: string[];
  bundles: string[];
}

/** The sweep's processes and their descendants: those with its variable, or its bundles (named by its pid) on their command line. */
function startedBy(sweep: Pick<Sweep, 'pid' | 'id'>, all: ProcessInfo[] = processes()): ProcessInfo[] {
  return all.filter((p) => p.environment.includes(`FANOUT_TEST_SWEEP=${sweep.id}`) || p.command.includes(`-${sweep.pid}/`));
}

/** What the sweep left; processes already there before it (`before`) do not count. */
function leftovers({ pid: sweepPid, id, tmp, before }: Pick<Sweep, 'pid' | 'id' | 'tmp' | 'before'>): Leftovers {
  const fresh = startedBy({ pid: sweepPid, id }).filter((p) => !before.has(p.pid) && p.pid !== process.pid);
  return {
    cgroups: cgroups ? readdirSync(CGROUP_ROOT).filter((name) => name.startsWith(`fanout-tuner-${sweepPid}-`)) : [],
    otherNamespaces: fresh.filter((p) => p.net !== OWN_NET).map((p) => `${p.pid} ${p.net} ${p.command}`),
    sweepProcesses: fresh.filter((p) => isSweepChild(p.command)).map((p) => `${p.pid} ${p.command}`),
    tmpEntries: readdirSync(tmp).filter((name) => /^fanout-tuner-(fence|tls)-/.test(name)),
    bundles: existsSync(BUNDLE_CACHE) ? readdirSync(BUNDLE_CACHE).filter((name) => name.endsWith(`-${sweepPid}`)) : [],
  };
}

const NOTHING: Leftovers = { cgroups: [], otherNamespaces: [], sweepProcesses: [], tmpEntries: [], bundles: [] };

/** Waits (a killed process takes a moment to be reaped) until nothing is left, and returns what is left then. */
async function settledLeftovers(sweep: Sweep): Promise<Leftovers> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = leftovers(sweep);
    if (JSON.stringify(left) === JSON.stringify(NOTHING) || Date.now() > deadline) return left;
    await new Promise((done) => setTimeout(done, 100));
  }
}

interface Sweep {
  pid: number;
  id: string;
  tmp: string;
  markers: string;
  out: string;
  before: Set<number>;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSweep(scenario: ScenarioInput, args: string[]): Sweep {
  const work = scratchDir('fence-cleanup');
  const tmp = mkdtempSync(join(work, 'tmp-'));
  const markers = mkdtempSync(join(work, 'markers-'));
  const out = join(work, 'results.json');
  const { file } = writeScenario(scenario, work);
  const before = new Set(processes().map((p) => p.pid));
  const id = randomUUID();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/sweep.ts', file, '--memory', '1769', '--reps', '1', '--no-report', '--out', out, '--isolation', 'namespace', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp, FANOUT_TEST_MARKER_DIR: markers, FANOUT_TEST_SWEEP: id } },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { pid: child.pid!, id, tmp, markers, out, before, output: () => output, exited };
}

/** What a sweep caught mid-invocation holds: its fence host, its cell (in its namespace, under its quota), its fence directory. */
function holdings(sweep: Sweep, cellPid: number): { fenceHosts: number; cellNamespaceIsOwn: boolean; cellInCgroup: boolean; fenceDirs: number } {
  const all = startedBy(sweep);
  const groups = cgroups ? readdirSync(CGROUP_ROOT).filter((name) => name.startsWith(`fanout-tuner-${sweep.pid}-`)) : [];
  return {
    fenceHosts: all.filter((p) => p.command.includes(`fence-host-${sweep.pid}`)).length,
    cellNamespaceIsOwn: all.find((p) => p.pid === cellPid)?.net === OWN_NET,
    cellInCgroup:
      !cgroups ||
      groups.some((group) =>
        readFileSync(join(CGROUP_ROOT, group, 'cgroup.procs'), 'utf8')
          .split('\n')
          .includes(String(cellPid)),
      ),
    fenceDirs: readdirSync(sweep.tmp).filter((name) => name.startsWith('fanout-tuner-fence-')).length,
  };
}

async function signalMidInvocation(signal: 'SIGINT' | 'SIGTERM', args: string[]): Promise<void> {
  const work = scratchDir('fence-cleanup-scenario');
  const sweep = startSweep(handlerFixtureScenario(work, 'hangs-after-warm-up.ts'), ['--concurrency', '2', ...args]);
  // The handler's second invocation (the first timed one) marks that it started, then hangs.
  const cellPid = await waitFor(`the cell's timed invocation (output so far: ${sweep.output()})`, () => {
    const marker = readdirSync(sweep.markers).find((name) => name.startsWith('started-'));
    return marker ? Number(marker.slice('started-'.length)) : undefined;
  });
  expect(holdings(sweep, cellPid)).toEqual({ fenceHosts: 1, cellNamespaceIsOwn: false, cellInCgroup: true, fenceDirs: 1 });
  process.kill(sweep.pid, signal);
  expect(await sweep.exited).toEqual({ code: null, signal });
  expect(await settledLeftovers(sweep)).toEqual(NOTHING);
}

function assertSupport(): void {
  assertNamespaces();
  if (requireCgroup && !cgroups) throw new Error('FANOUT_REQUIRE_CGROUP=1 but no writable cgroup CPU controller was found');
}

describe.runIf(runFenced)('a fenced sweep leaves nothing behind', () => {
  it('after a normal exit with the net backend: no cgroup, namespace, fence host, cell, fence or TLS directory, or bundle', async () => {
    assertSupport();
    const sweep = startSweep(
      quickScenario({
        requests: [{ host: 'site.example', count: 4 }],
        hosts: { 'site.example': { latencyMs: { dist: 'fixed', value: 2 }, bodyBytes: { dist: 'fixed', value: 1000 } } },
      }),
      ['--concurrency', '2', '--backend', 'net'],
    );
    expect(await sweep.exited).toEqual({ code: 0, signal: null });
    const results = loadResults(sweep.out);
    expect([results.method.isolation, results.method.backend, ...results.cells.map((cell) => cell.state)]).toEqual(['namespace', 'net', 'completed']);
    expect(await settledLeftovers(sweep)).toEqual(NOTHING);
  });

  it('after Ctrl-C (SIGINT) in the middle of an invocation: nothing, and the sweep ends by SIGINT', async () => {
    assertSupport();
    await signalMidInvocation('SIGINT', []);
  });

  it('after SIGTERM in the middle of an invocation with the net backend: nothing, and the sweep ends by SIGTERM', async () => {
    assertSupport();
    await signalMidInvocation('SIGTERM', ['--backend', 'net']);
  });

  it('after cells that die mid-invocation (process.exit(3) and SIGKILL): both cells errored, and nothing is left', async () => {
    assertSupport();
    const work = scratchDir('fence-cleanup-scenario');
    const sweep = startSweep(handlerFixtureScenario(work, 'crashes-mid-invocation.ts'), ['--concurrency', '1,2']);
    expect(await sweep.exited).toEqual({ code: 0, signal: null });
    const cells = loadResults(sweep.out).cells.map((cell) => [cell.concurrency, cell.state, 'error' in cell ? cell.error : '']);
    expect(cells).toEqual([
      [1, 'errored', expect.stringContaining('exited with code 3')],
      [2, 'errored', expect.stringContaining('killed by SIGKILL')],
    ]);
    expect(await settledLeftovers(sweep)).toEqual(NOTHING);
  });
});
