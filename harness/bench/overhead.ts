import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OverheadMeasurement, OverheadSpec } from './overhead-spec.ts';

const CHILD = fileURLToPath(new URL('./overhead-child.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Runs one overhead measurement in a fresh Node process, like a sweep's cell. */
export function measureOverhead(spec: OverheadSpec): Promise<OverheadMeasurement> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    let result: OverheadMeasurement | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: OverheadMeasurement) => {
      result = message;
    });
    child.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the ${spec.harness} measurement at concurrency ${spec.concurrency} failed (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
    child.send(spec);
  });
}
