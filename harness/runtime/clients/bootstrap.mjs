// fanout-tuner's Lambda runtime client for Node.js (no dependencies).
//
// Loads the handler named by _HANDLER ("app.handler", "src/app.handler", "app.nested.handler")
// from LAMBDA_TASK_ROOT, resolving the module as Lambda's Node runtime does (an extensionless
// file, .js as CommonJS or, under a package.json with "type": "module", as ESM, then .mjs, .cjs),
// and serves invocations through the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API: GET the next
// event, call handler(event, context[, callback]), POST the JSON-encoded result or the error.
// Async handlers settle by their promise; callback handlers by the callback, and by default (as
// context.callbackWaitsForEmptyEventLoop says) only once the event loop is empty. A handler that
// cannot be loaded is reported to /runtime/init/error and the process exits with status 1.
import http from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const API_VERSION = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

const address = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const separator = address.lastIndexOf(':');
const apiHost = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
const apiPort = Number(address.slice(separator + 1));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();

function request(method, pathname, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: apiHost,
        port: apiPort,
        method,
        path: API_VERSION + pathname,
        agent,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length, ...headers } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function post(pathname, body, headers) {
  const res = await request('POST', pathname, body, headers);
  if (res.status !== 202) process.stderr.write(`fanout-tuner bootstrap: POST ${pathname} answered ${res.status}: ${res.body}\n`);
}

function errorReport(error) {
  if (error instanceof Error || (error && typeof error.name === 'string' && typeof error.message === 'string')) {
    return { errorType: error.name, errorMessage: error.message, stackTrace: typeof error.stack === 'string' ? error.stack.split('\n') : [] };
  }
  return { errorType: typeof error, errorMessage: String(error), stackTrace: [] };
}

function runtimeError(type, message) {
  const error = new Error(message);
  error.name = `Runtime.${type}`;
  return error;
}

function typeModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

function isFile(file) {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function loadModule(moduleRoot, moduleName) {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  const require = createRequire(path.join(taskRoot, 'index.js'));
  const esm = typeModule(path.dirname(base));
  if (isFile(base)) return require(base);
  if (!esm && isFile(`${base}.js`)) return require(`${base}.js`);
  if (esm && isFile(`${base}.js`)) return import(pathToFileURL(`${base}.js`).href);
  if (isFile(`${base}.mjs`)) return import(pathToFileURL(`${base}.mjs`).href);
  if (isFile(`${base}.cjs`)) return require(`${base}.cjs`);
  return require(require.resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] }));
}

async function loadHandler(fullHandler) {
  if (fullHandler.includes('..'))
    throw runtimeError(
      'MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  const base = path.basename(fullHandler);
  const moduleRoot = fullHandler.slice(0, fullHandler.length - base.length);
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (!match) throw runtimeError('MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;
  let loaded;
  try {
    loaded = await loadModule(moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error));
    if (error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_MODULE_NOT_FOUND') throw runtimeError('ImportModuleError', String(error));
    throw error;
  }
  const handler = handlerPath.split('.').reduce((object, key) => object?.[key], loaded);
  if (!handler) throw runtimeError('HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw runtimeError('HandlerNotFound', `${fullHandler} is not a function`);
  return handler;
}

// What to do once the event loop has nothing left but our own idle connection.
let onEmptyLoop;
process.on('beforeExit', () => {
  const hook = onEmptyLoop;
  onEmptyLoop = undefined;
  hook?.();
});

// The invocation being served, for an exception that escapes the handler's own call.
let current;
async function failFatally(error) {
  const invocation = current;
  current = undefined;
  const report = errorReport(error);
  process.stderr.write(`${report.errorType}: ${report.errorMessage}\n`);
  try {
    if (invocation) await post(`/invocation/${encodeURIComponent(invocation)}/error`, JSON.stringify(report), { [ERROR_TYPE_HEADER]: report.errorType });
  } finally {
    process.exit(129);
  }
}
process.on('uncaughtException', (error) => void failFatally(error));
process.on('unhandledRejection', (reason) => {
  const error = reason instanceof Error ? reason : runtimeError('UnhandledPromiseRejection', String(reason));
  void failFatally(error);
});

function invoke(handler, event, context) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      onEmptyLoop = undefined;
      resolve(error === null || error === undefined ? { value } : { error });
    };
    const callback = (error, value) => {
      if (context.callbackWaitsForEmptyEventLoop) {
        onEmptyLoop = () => finish(error, value);
        // Nothing else pending: beforeExit fires at once.
      } else finish(error, value);
    };
    context.succeed = (value) => finish(null, value);
    context.fail = (error) => finish(error ?? runtimeError('Unknown', 'context.fail called without an error'));
    context.done = (error, value) => finish(error, value);
    try {
      const result = handler(event, context, callback);
      if (result && typeof result.then === 'function') {
        result.then(
          (value) => finish(null, value),
          (error) => finish(error ?? runtimeError('Unknown', 'the handler rejected without a reason')),
        );
      } else if (!onEmptyLoop) {
        // A handler that neither returns a promise nor has called back yet: as Lambda's runtime,
        // answer null once the event loop is empty, unless the callback comes first.
        onEmptyLoop = () => finish(null, null);
      }
    } catch (error) {
      finish(error);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER ?? '');
  } catch (error) {
    const report = errorReport(error);
    process.stdout.write(`${report.errorType}: ${report.errorMessage}\n`);
    await post('/init/error', JSON.stringify(report), { [ERROR_TYPE_HEADER]: report.errorType });
    process.exit(1);
  }

  for (;;) {
    const next = await request('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`GET /invocation/next answered ${next.status}: ${next.body}`);
    const requestId = String(next.headers['lambda-runtime-aws-request-id']);
    const deadlineMs = Number(next.headers['lambda-runtime-deadline-ms']);
    const traceId = next.headers['lambda-runtime-trace-id'];
    if (traceId) process.env._X_AMZN_TRACE_ID = String(traceId);
    else delete process.env._X_AMZN_TRACE_ID;
    const clientContext = next.headers['lambda-runtime-client-context'];
    const identity = next.headers['lambda-runtime-cognito-identity'];
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: requestId,
      clientContext: clientContext ? JSON.parse(String(clientContext)) : undefined,
      identity: identity ? JSON.parse(String(identity)) : undefined,
      getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    };
    current = requestId;
    const base = `/invocation/${encodeURIComponent(requestId)}`;
    let outcome;
    try {
      outcome = await invoke(handler, next.body ? JSON.parse(next.body) : null, context);
    } catch (error) {
      outcome = { error };
    }
    current = undefined;
    if ('error' in outcome) {
      const report = errorReport(outcome.error);
      await post(`${base}/error`, JSON.stringify(report), { [ERROR_TYPE_HEADER]: report.errorType });
      continue;
    }
    let body;
    try {
      body = JSON.stringify(outcome.value === undefined ? null : outcome.value);
    } catch (error) {
      const report = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${error.message}`, stackTrace: [] };
      await post(`${base}/error`, JSON.stringify(report), { [ERROR_TYPE_HEADER]: report.errorType });
      continue;
    }
    await post(`${base}/response`, body);
  }
}

// Not a top-level await: while a callback handler waits for the event loop to empty, nothing of
// ours is pending, and an unsettled top-level await would end the process there.
main().catch((error) => {
  process.stderr.write(`fanout-tuner bootstrap: ${error?.stack ?? error}\n`);
  process.exit(1);
});
