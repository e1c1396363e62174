import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lambdaNodeArgs } from '../model/lambda.ts';
import { bundleEntry } from '../run/cell-process-entry.ts';
import { onExit } from '../run/on-exit.ts';
import { killProcessTree } from '../run/process-tree.ts';
import { scenarioSchema, type Scenario } from '../scenario/schema.ts';
import {
  BENCH_HOST,
  clientOf,
  idealOverheadMs,
  warmupRequests,
  type OverheadChildResult,
  type OverheadMeasurement,
  type OverheadSpec,
  type OverheadTask,
} from './overhead-spec.ts';

const CHILD = fileURLToPath(new URL('./overhead-child.ts', import.meta.url));

export function overheadScenario(spec: Pick<OverheadSpec, 'harness' | 'requests' | 'latencyMs' | 'bodyBytes'>): Scenario {
  return scenarioSchema.parse({
    name: 'harness-overhead',
    seed: 1,
    requests: [{ host: BENCH_HOST, count: spec.requests }],
    hosts: { [BENCH_HOST]: { latencyMs: { dist: 'fixed', value: spec.latencyMs }, bodyBytes: { dist: 'fixed', value: spec.bodyBytes } } },
    work: { parse: 'none' },
    // One batch for the whole run: the sink adds no wait.
    sink: { latencyMs: { dist: 'fixed', value: 0 }, poolSize: 1, batchSize: spec.requests },
    client: { timeoutMs: 600_000, retries: 0, library: clientOf(spec.harness) },
  });
}

/** The measuring process's task: the spec and both scenarios, parsed here. */
export function overheadTask(spec: OverheadSpec): OverheadTask {
  return { spec, scenario: overheadScenario(spec), warmup: overheadScenario({ ...spec, latencyMs: 0, requests: warmupRequests(spec) }) };
}

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
    let result: OverheadChildResult | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: OverheadChildResult) => {
      result = message;
    });
    child.on('exit', (code) => {
      forget();
      if (result) resolve({ spec, idealMs: idealOverheadMs(spec), ...result });
      else
        reject(
          new Error(`the ${spec.harness} measurement at concurrency ${spec.concurrency} failed (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`),
        );
    });
    child.send(overheadTask(spec));
  });
}
