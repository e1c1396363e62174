import { fileURLToPath } from 'node:url';
import type { FunctionGroup } from '../../harness/run/cgroup.ts';
import {
  bootstrapCommand,
  buildLambdaEnvironment,
  pythonExecutable,
  startFunctionProcess,
  type FunctionLanguage,
  type FunctionProcess,
} from '../../harness/runtime/function-process.ts';
import { RuntimeApi } from '../../harness/runtime/runtime-api.ts';
import { underFileDescriptorQuota } from '../../harness/run/lambda-quotas.ts';

export const functionsDir = (name: string) => fileURLToPath(new URL(`../fixtures/functions/${name}`, import.meta.url));

export interface FixtureFunction {
  language: FunctionLanguage;
  /** Folder under test/fixtures/functions. */
  dir: string;
  handler: string;
  memoryMb?: number;
  concurrency?: number;
  group?: FunctionGroup;
}

/** Starts the Runtime API and the fixture's runtime process, runs `body`, then ends both, whatever happens. */
export async function withFunction(fixture: FixtureFunction, body: (api: RuntimeApi, process: FunctionProcess) => Promise<void>): Promise<void> {
  const api = await RuntimeApi.start({ host: '127.0.0.1', port: 0, functionName: 'fixture', region: 'eu-west-1' });
  let child: FunctionProcess | undefined;
  try {
    const taskRoot = functionsDir(fixture.dir);
    child = startFunctionProcess({
      command: bootstrapCommand({
        language: fixture.language,
        codeDir: taskRoot,
        memoryMb: fixture.memoryMb ?? 512,
        ...(fixture.language === 'python' ? { interpreter: pythonExecutable() } : {}),
      }),
      env: buildLambdaEnvironment({
        functionName: 'fixture',
        memoryMb: fixture.memoryMb ?? 512,
        region: 'eu-west-1',
        timeoutS: 3,
        handler: fixture.handler,
        taskRoot,
        runtimeApi: api.address,
        environment: { MAX_WORKERS: '1' },
        concurrencyVariable: 'MAX_WORKERS',
        concurrency: fixture.concurrency ?? 8,
        runtime: fixture.language === 'python' ? 'python3.12' : 'nodejs20.x',
      }),
      cwd: taskRoot,
      runtimeApi: api,
      wrap: (command) => underFileDescriptorQuota(command),
      ...(fixture.group ? { group: fixture.group } : {}),
    });
    await body(api, child);
  } finally {
    await child?.kill();
    await api.close();
  }
}
