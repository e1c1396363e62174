import { makeTempDir } from '../run/temp-dirs.ts';
import { fork, spawn, spawnSync, type ChildProcess, type ForkOptions, type SpawnOptions } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from '../run/cell-process-entry.ts';
import { onExit } from '../run/on-exit.ts';
import type { Scenario } from '../scenario/schema.ts';
import { hostsFileText, loopbackAddresses } from './addresses.ts';
import type { FenceHostMessage, FenceSetup } from './fence-protocol.ts';
import type { Certificates } from './tls.ts';
import { startDatabaseForwarder, type DatabaseRoute } from './database-bridge.ts';

/**
 * The fence: each cell process runs in a network namespace of its own where only loopback
 * exists, so whatever the job does past the mocks (a socket of its own, a Worker, a child
 * process, another runtime) finds nothing to reach. The namespace belongs to a small host process
 * started through `unshare`; the cell joins it through `nsenter` (which keeps the process id,
 * so the cell can still be put under its CPU quota by pid). For the `net` backend the host also
 * runs the scenario's servers, outside the cell's quota.
 */

export const ISOLATION_MODES = ['auto', 'namespace', 'none'] as const;
export type IsolationMode = (typeof ISOLATION_MODES)[number];

export type NamespaceSupport = { available: true } | { available: false; reason: string };

let support: NamespaceSupport | undefined;

/** Whether cells can be fenced here: Linux, root, and unshare, nsenter, ip and mount that work. Asked once. */
export function namespaceSupport(): NamespaceSupport {
  support ??= probeSupport();
  return support;
}

function probeSupport(): NamespaceSupport {
  if (process.platform !== 'linux') return { available: false, reason: `network namespaces are Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { available: false, reason: 'making a network namespace needs root here' };
  for (const command of ['nsenter', 'ip', 'mount']) {
    if (spawnSync(command, ['--version'], { stdio: 'ignore' }).error)
      return { available: false, reason: `the ${command} command is missing (util-linux, iproute2)` };
  }
  const probe = spawnSync('unshare', ['--net', '--mount', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (probe.error || probe.status !== 0) {
    return { available: false, reason: `unshare --net --mount failed: ${probe.error?.message ?? String(probe.stderr).trim()}` };
  }
  return { available: true };
}

/** What to serve inside the fence, for the `net` backend. */
export interface FenceServe {
  scenario: Scenario;
  timeScale: number;
  certificates: Certificates;
  /** A deployed function's Runtime API, listening on this Unix socket in the sweep: reached inside at RUNTIME_API_ADDRESS. */
  runtimeApiSocket?: string;
}

/** Where a function's runtime finds the Lambda Runtime API inside its namespace (AWS_LAMBDA_RUNTIME_API). */
export const RUNTIME_API_ADDRESS = { address: '127.0.0.1', port: 9001 } as const;

export interface Fence {
  /** The host process, whose namespaces the cell joins. */
  readonly pid: number;
  /** With `serve`: the Unix socket where the cell begins invocations and reads the servers' tally. */
  readonly controlSocket: string | undefined;
  /** `fork`, inside the namespaces; `execPath` (this Node by default) is what nsenter starts there. */
  fork(modulePath: string, args: readonly string[], options: ForkOptions): ChildProcess;
  /** `spawn`, inside the namespaces: a process of any runtime (a deployed function's). */
  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /** The command and arguments that run `command` inside the namespaces, for those who spawn it themselves. */
  enter(command: { command: string; args: string[] }, cwd: string): { command: string; args: string[] };
  /** Ends the host; the namespace goes with the last of its processes. */
  close(): Promise<void>;
}

const HOST_SOURCE = fileURLToPath(new URL('./fence-host.ts', import.meta.url));
const START_ALLOWANCE_MS = 30_000;
const STDERR_TAIL_BYTES = 2048;

/**
 * Starts a fence host and waits until its namespace is ready; throws with the host's words if it
 * cannot be. `names` (without `serve` only) are host names the namespace's hosts file gives
 * loopback addresses, as it would the scenario's, for servers started in the fence by other
 * means (the bench's bare-server floor).
 */
export async function openFence(serve?: FenceServe, names: readonly string[] = [], database?: DatabaseRoute): Promise<Fence> {
  const entry = await bundleEntry(HOST_SOURCE, 'fence-host');
  const dir = makeTempDir('fence');
  const hostNames = serve ? Object.keys(serve.scenario.hosts) : [...names];
  // A database reached by name resolves like the scenario's hosts, to an address of its own; one
  // reached at a loopback address is served there.
  const databaseName = database && !isIP(database.inside.host) && database.inside.host !== 'localhost' ? database.inside.host : undefined;
  const addresses = loopbackAddresses(databaseName && !hostNames.includes(databaseName) ? [...hostNames, databaseName] : hostNames);
  const setup: FenceSetup = {
    hostsFile: join(dir, 'hosts'),
    resolvFile: join(dir, 'resolv.conf'),
    ...(serve
      ? {
          serve: {
            scenario: serve.scenario,
            timeScale: serve.timeScale,
            addresses: [...addresses],
            leaves: hostNames.map((host) => [host, serve.certificates.leaf(host)] as [string, { certFile: string; keyFile: string }]),
            controlSocket: join(dir, 'control.sock'),
          },
        }
      : {}),
    ...(database
      ? {
          database: {
            address: databaseName ? addresses.get(databaseName)! : database.inside.host === 'localhost' ? '127.0.0.1' : database.inside.host,
            port: database.inside.port,
            socketPath: join(dir, 'database.sock'),
            latencyMs: database.roundTripMs ?? { dist: 'fixed', value: 0 },
            seed: database.seed,
            timeScale: database.timeScale,
          },
        }
      : {}),
  };
  if (serve?.runtimeApiSocket) setup.runtimeApi = { ...RUNTIME_API_ADDRESS, socketPath: serve.runtimeApiSocket };
  writeFileSync(setup.hostsFile, hostsFileText(addresses));
  const forwarder = setup.database && database ? await startDatabaseForwarder(setup.database.socketPath, database.target) : undefined;
  // Every name the hosts file does not know goes to the fence host's refusing name server.
  writeFileSync(setup.resolvFile, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');

  const host = spawn('unshare', ['--net', '--mount', '--', process.execPath, ...entry.execArgv, entry.file], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderrTail = '';
  host.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
  const cleanUp = () => {
    host.kill('SIGKILL');
    forwarder?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const cancelCleanUp = onExit(cleanUp);

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the fence was not ready within ${START_ALLOWANCE_MS / 1000} s`)), START_ALLOWANCE_MS);
      host.once('message', (message: FenceHostMessage) => {
        clearTimeout(timer);
        if (message.type === 'ready') resolve();
        else reject(new Error(message.error));
      });
      host.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the fence host ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${stderrTail.trim().split('\n').at(-1) ?? ''}`));
      });
      host.send(setup);
    });
  } catch (error) {
    cancelCleanUp();
    cleanUp();
    throw new Error(`could not fence the cell in a network namespace: ${(error as Error).message}`);
  }

  const pid = host.pid!;
  const enter = (command: { command: string; args: string[] }, cwd: string) => ({
    command: 'nsenter',
    args: [`--net=/proc/${pid}/ns/net`, `--mount=/proc/${pid}/ns/mnt`, `--wd=${cwd}`, '--', command.command, ...command.args],
  });
  return {
    pid,
    controlSocket: setup.serve?.controlSocket,
    fork(modulePath, args, options) {
      const nodeArgs = options.execArgv ?? [];
      // Entering a mount namespace moves to its root: keep the working directory the cell expects.
      const cwd = options.cwd === undefined ? process.cwd() : String(options.cwd);
      return fork(resolve(cwd, modulePath), [...args], {
        ...options,
        execPath: 'nsenter',
        execArgv: [`--net=/proc/${pid}/ns/net`, `--mount=/proc/${pid}/ns/mnt`, `--wd=${cwd}`, '--', options.execPath ?? process.execPath, ...nodeArgs],
      });
    },
    spawn(command, args, options) {
      const entered = enter({ command, args: [...args] }, options.cwd === undefined ? process.cwd() : String(options.cwd));
      return spawn(entered.command, entered.args, options);
    },
    enter,
    async close() {
      if (host.connected) host.disconnect();
      const killer = setTimeout(() => host.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
      forwarder?.close();
      rmSync(dir, { recursive: true, force: true });
      // Only now: a process that ends while the host is still going must still remove the directory.
      cancelCleanUp();
    },
  };
}
