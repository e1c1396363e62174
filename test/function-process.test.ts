import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapCommand, buildLambdaEnvironment, LAMBDA_PATH, NODE_BOOTSTRAP, PYTHON_BOOTSTRAP } from '../harness/runtime/function-process.ts';

describe('the environment Lambda gives the function', () => {
  const base = {
    functionName: 'fetch-all',
    memoryMb: 1769,
    region: 'eu-central-1',
    timeoutS: 30,
    handler: 'app.lambda_handler',
    taskRoot: '/srv/code',
    runtimeApi: '127.0.0.1:9001',
  };

  it("is exactly the reserved variables, TZ, LANG, PATH, the function's own and the cell's concurrency", () => {
    expect(
      buildLambdaEnvironment({
        ...base,
        runtime: 'python3.12',
        environment: { TABLE: 'jobs', MAX_WORKERS: '4', TZ: 'Europe/Berlin', AWS_REGION: 'us-east-1' },
        concurrencyVariable: 'MAX_WORKERS',
        concurrency: 32,
      }),
    ).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'fetch-all',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fetch-all',
      AWS_LAMBDA_LOG_STREAM_NAME: '1970/01/01/[$LATEST]fanouttuner',
      // reserved: the function's own AWS_REGION does not override it
      AWS_REGION: 'eu-central-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_python3.12',
      LAMBDA_TASK_ROOT: '/srv/code',
      _HANDLER: 'app.lambda_handler',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      // not reserved: the function may set TZ
      TZ: 'Europe/Berlin',
      LANG: 'en_US.UTF-8',
      PATH: LAMBDA_PATH,
      TABLE: 'jobs',
      // the cell's concurrency, not the deployed value
      MAX_WORKERS: '32',
    });
  });

  it('has TZ=:UTC by default, and no AWS_EXECUTION_ENV for an OS-only runtime', () => {
    const env = buildLambdaEnvironment({ ...base, runtime: 'provided.al2023', logStreamName: '2025/01/02/[$LATEST]abc' });
    expect(env.TZ).toBe(':UTC');
    expect(env.PATH).toBe('/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin');
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toBe('2025/01/02/[$LATEST]abc');
    expect('AWS_EXECUTION_ENV' in env).toBe(false);
    expect(Object.keys(env).length).toBe(14);
  });

  it('refuses a concurrency variable without a concurrency', () => {
    expect(() => buildLambdaEnvironment({ ...base, concurrencyVariable: 'MAX_WORKERS' })).toThrow("needs the cell's concurrency");
  });
});

describe('the command that starts the runtime', () => {
  it("runs our bootstrap.py with the interpreter, our bootstrap.mjs with this Node, or the function's own bootstrap", () => {
    expect(bootstrapCommand({ language: 'python', interpreter: '/usr/bin/python3.11', codeDir: '/srv/code' })).toEqual({
      command: '/usr/bin/python3.11',
      args: [PYTHON_BOOTSTRAP],
    });
    expect(bootstrapCommand({ language: 'python', codeDir: '/srv/code' })).toEqual({ command: 'python3', args: [PYTHON_BOOTSTRAP] });
    expect(bootstrapCommand({ language: 'node', codeDir: '/srv/code' })).toEqual({ command: process.execPath, args: [NODE_BOOTSTRAP] });
    // With a memory size, Node starts with the flags Lambda's Node runtime gives that size.
    expect(bootstrapCommand({ language: 'node', codeDir: '/srv/code', memoryMb: 128 })).toEqual({
      command: process.execPath,
      args: ['--expose-gc', '--max-http-header-size=81920', '--max-semi-space-size=6', '--max-old-space-size=116', NODE_BOOTSTRAP],
    });
    expect(bootstrapCommand({ language: 'python', codeDir: '/srv/code', memoryMb: 128 })).toEqual({ command: 'python3', args: [PYTHON_BOOTSTRAP] });
    expect(bootstrapCommand({ language: 'custom', codeDir: '/srv/code' })).toEqual({ command: join('/srv/code', 'bootstrap'), args: [] });
    expect(PYTHON_BOOTSTRAP.endsWith('/harness/runtime/clients/bootstrap.py')).toBe(true);
    expect(NODE_BOOTSTRAP.endsWith('/harness/runtime/clients/bootstrap.mjs')).toBe(true);
  });
});
