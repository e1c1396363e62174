import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lambdaNodeArgs } from '../model/lambda.ts';
import { bundleEntry } from '../run/cell-process-entry.ts';
import { onExit } from '../run/on-exit.ts';
import { killProcessTree } from '../run/process-tree.ts';
import type { OverheadMeasurement, OverheadSpec } from './overhead-spec.ts';

const CHILD = fileURLToPath(new URL('./overhead-child.ts', import.meta.url));

/**
 * Runs one overhead measurement in a fresh Node process started as a sweep's cell is: bundled,
 * without the TypeScript loader, whose memory would count in the peak RSS.
 */
export async function measureOverhead(spec: OverheadSpec): Promise<OverheadMeasurement> {
  const entry = await bundleEntry(CHILD, 'overhead', { splitting: true });
  return new Promise((resolve, reject) => {
    const execArgv = [...entry.execArgv, ...(spec.lambdaMemoryMb ? lambdaNodeArgs(spec.lambdaMemoryMb) : [])];
    const child = fork(entry.file, [], { execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    // Killed if the bench is stopped first (Ctrl-C, SIGTERM), like a sweep's cells.
    const forget = onExit(() => killProcessTree(child.pid));
    let stderr = '';
    let result: OverheadMeasurement | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: OverheadMeasurement) => {
      result = message;
    });
    child.on('exit', (code) => {
      forget();
      if (result) resolve(result);
      else
        reject(
          new Error(`the ${spec.harness} measurement at concurrency ${spec.concurrency} failed (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`),
        );
    });
    child.send(spec);
  });
}
