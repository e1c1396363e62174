import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopbackAddresses } from '../isolate/addresses.ts';
import { openFence, type Fence } from '../isolate/fence.ts';
import type { Certificates } from '../isolate/tls.ts';
import { bundleEntry } from '../run/cell-process-entry.ts';
import { onExit } from '../run/on-exit.ts';
import { netScenario, netUrls, type FloorStart, type NetJobStart, type NetMeasurement, type NetSpec } from './net-spec.ts';
import { BENCH_HOST } from './overhead-spec.ts';

const JOB = fileURLToPath(new URL('./net-job.ts', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-server.ts', import.meta.url));
const STDERR_TAIL_BYTES = 4000;
const FLOOR_START_ALLOWANCE_MS = 30_000;

/**
 * One `net` benchmark measurement: a fresh fence holding the server measured (the `net` backend's
 * replay servers in the fence host, or the floor's bare server forked into the fence), and a
 * fresh job process forked into it as a cell is (bundled, without the TypeScript loader, whose
 * memory would count in the peak RSS). Nothing is under a CPU quota: the job and the server each
 * have the machine, as in the in-process overhead measurements.
 */
export async function measureNet(spec: NetSpec, certificates: Certificates): Promise<NetMeasurement> {
  // The server's scenario: the URLs the timed invocations fetch (the warm-up fetches a prefix of them).
  const scenario = netScenario(spec, netUrls(spec.requests));
  const fence = spec.server === 'net' ? await openFence({ scenario, timeScale: 1, certificates }) : await openFence(undefined, [BENCH_HOST]);
  const dir = mkdtempSync(join(tmpdir(), 'fanout-tuner-floor-'));
  const forgetDir = onExit(() => rmSync(dir, { recursive: true, force: true }));
  let floor: ChildProcess | undefined;
  try {
    let controlSocket = fence.controlSocket;
    if (spec.server === 'floor') {
      controlSocket = join(dir, 'control.sock');
      floor = await startFloor(fence, {
        address: loopbackAddresses([BENCH_HOST]).get(BENCH_HOST)!,
        port: 80,
        latencyMs: spec.latencyMs,
        bodyBytes: spec.bodyBytes,
        controlSocket,
      });
    }
    if (!controlSocket) throw new Error('the fence has no control socket');
    return await runJob(fence, { spec, controlSocket });
  } finally {
    floor?.kill('SIGKILL');
    await fence.close();
    forgetDir();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startFloor(fence: Fence, setup: FloorStart): Promise<ChildProcess> {
  const entry = await bundleEntry(FLOOR, 'bench-floor');
  const child = fence.fork(entry.file, [], { execArgv: entry.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const forget = onExit(() => child.kill('SIGKILL'));
  child.once('exit', forget);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the floor server did not start')), FLOOR_START_ALLOWANCE_MS);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the floor server exited (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
    child.send(setup);
  });
  return child;
}

async function runJob(fence: Fence, start: NetJobStart): Promise<NetMeasurement> {
  const entry = await bundleEntry(JOB, 'bench-net-job');
  const child = fence.fork(entry.file, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
  const forget = onExit(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });
  try {
    return await new Promise<NetMeasurement>((resolve, reject) => {
      let result: NetMeasurement | undefined;
      child.on('message', (message: NetMeasurement) => {
        result = message;
      });
      child.on('exit', (code) => {
        if (result) resolve(result);
        else {
          const { server, client, concurrency } = start.spec;
          reject(
            new Error(
              `the ${server} measurement with ${client} at concurrency ${concurrency} failed (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
            ),
          );
        }
      });
      child.send(start);
    });
  } finally {
    forget();
  }
}
