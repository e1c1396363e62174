/**
 * The Lambda Runtime API (version 2018-06-01), as the deployed function's runtime client sees it
 * inside Lambda: it long-polls GET /runtime/invocation/next for an event, and answers each with
 * POST /runtime/invocation/{id}/response or /error; a runtime that cannot load the handler says so
 * with POST /runtime/init/error. The harness serves it on the address it puts in
 * AWS_LAMBDA_RUNTIME_API, hands events to it with `invoke`, and reads each invocation's outcome and
 * duration as Lambda measures them: from handing the event out to receiving the answer.
 *
 * One execution environment serves one invocation at a time, so `invoke` queues: an event waits
 * until the runtime asks for the next one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type InvocationResult =
  | { state: 'completed'; durationMs: number; response: unknown }
  | { state: 'errored'; durationMs: number; errorType: string; errorMessage: string; stackTrace?: string[] }
  | { state: 'init-error'; errorType: string; errorMessage: string }
  | { state: 'timeout'; durationMs: number };

/** How INIT ended: the runtime asked for its first event, or reported (or died of) an init error. */
export type InitOutcome = { state: 'ready'; initDurationMs: number } | { state: 'init-error'; initDurationMs: number; errorType: string; errorMessage: string };

export interface RuntimeApiOptions {
  host: string;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /**
   * Listen on this Unix socket instead: the runtime then reaches the API at host:port through a
   * relay in its network namespace, which cannot reach this machine's loopback. `host` and
   * `port` are still what the runtime is told.
   */
  socketPath?: string;
  /** Name and region of the function the invoked ARN names. */
  functionName?: string;
  region?: string;
  accountId?: string;
}

export interface InvokeOptions {
  /** The function's timeout: the deadline the runtime is given, and when the invocation times out. */
  timeoutMs: number;
}

/** How the runtime process ended, for the invocation it was serving (see `runtimeExited`). */
export interface RuntimeExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The kernel's OOM killer ended it (from the memory cgroup's counters). */
  outOfMemory: boolean;
}

/** Lambda rejects a synchronous response over 6 MB with Function.ResponseSizeTooLarge. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'lambda-runtime-function-error-type';

interface Pending {
  id: string;
  body: string;
  timeoutMs: number;
  resolve: (result: InvocationResult) => void;
  /** Set when the event is handed out. */
  startedAt?: number;
  timer?: NodeJS.Timeout;
}

interface ErrorBody {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}

/** The X-Ray header Lambda passes on: Root=1-<epoch seconds, hex>-<96 random bits>;Parent=…;Sampled=0. */
function traceId(): string {
  const epoch = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * An error report as the runtime clients send it: `{errorMessage, errorType, stackTrace}` (Python,
 * the documented shape) or with `trace` (the Node client); the type may come in the
 * Lambda-Runtime-Function-Error-Type header instead.
 */
export function parseErrorBody(body: Buffer, headerType: string | undefined): ErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const record = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  const stack = Array.isArray(record.stackTrace) ? record.stackTrace : Array.isArray(record.trace) ? record.trace : undefined;
  const errorType = typeof record.errorType === 'string' && record.errorType ? record.errorType : (headerType ?? 'Unknown');
  const errorMessage = typeof record.errorMessage === 'string' ? record.errorMessage : parsed === undefined ? body.toString('utf8') : '';
  return stack ? { errorType, errorMessage, stackTrace: stack.map(String) } : { errorType, errorMessage };
}

function decodeResponse(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class RuntimeApi {
  readonly host: string;
  readonly port: number;
  /** Settles when the runtime first asks for an event (INIT done) or reports an init error. */
  readonly init: Promise<InitOutcome>;
  private readonly server: Server;
  private readonly functionArn: string;
  private readonly queue: Pending[] = [];
  private readonly waiting: ServerResponse[] = [];
  private current: Pending | undefined;
  private initOutcome: InitOutcome | undefined;
  private settleInit: (outcome: InitOutcome) => void = () => {};
  private initStartedAt = performance.now();
  private closed = false;

  private constructor(server: Server, options: RuntimeApiOptions) {
    this.server = server;
    this.host = options.host;
    const bound = server.address();
    this.port = typeof bound === 'object' && bound ? (bound as AddressInfo).port : options.port;
    const region = options.region ?? 'us-east-1';
    this.functionArn = `arn:aws:lambda:${region}:${options.accountId ?? '123456789012'}:function:${options.functionName ?? 'function'}`;
    this.init = new Promise((resolve) => {
      this.settleInit = resolve;
    });
  }

  static async start(options: RuntimeApiOptions): Promise<RuntimeApi> {
    const server = createServer();
    // /next is a long poll that may wait for minutes; and the clients keep their connection
    // between invocations, however long the harness pauses.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (options.socketPath) server.listen(options.socketPath, listening);
      else server.listen(options.port, options.host, listening);
    });
    const api = new RuntimeApi(server, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      api.route(request, response).catch((error: Error) => {
        if (!response.headersSent) sendJson(response, 500, { errorType: 'ServiceException', errorMessage: error.message });
      });
    });
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** The init error the runtime reported (or died of before its first poll), once it has. */
  get initError(): { errorType: string; errorMessage: string } | undefined {
    const outcome = this.initOutcome;
    return outcome?.state === 'init-error' ? { errorType: outcome.errorType, errorMessage: outcome.errorMessage } : undefined;
  }

  /** Starts INIT's clock: call it just before starting the runtime process (else it runs from `start`). */
  beginInit(): void {
    this.initStartedAt = performance.now();
  }

  /** Queues an event; resolves with its outcome once the runtime has answered it, failed or run out of time. */
  invoke(event: unknown, options: InvokeOptions): Promise<InvocationResult> {
    if (this.closed) return Promise.reject(new Error('the runtime API is closed'));
    const error = this.initError;
    if (error) return Promise.resolve({ state: 'init-error', ...error });
    return new Promise((resolve) => {
      this.queue.push({ id: randomUUID(), body: JSON.stringify(event ?? null), timeoutMs: options.timeoutMs, resolve });
      this.dispatch();
    });
  }

  /**
   * The runtime process ended. The invocation it was serving fails as Lambda reports it
   * (Runtime.OutOfMemory or Runtime.ExitError); before its first poll, INIT fails. Queued events
   * wait for a new runtime process.
   */
  runtimeExited(exit: RuntimeExit): void {
    const reason = exit.signal ? `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal}` : `exit status ${exit.exitCode ?? 'unknown'}`;
    const errorType = exit.outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
    for (const response of this.waiting.splice(0)) response.destroy();
    if (!this.initOutcome) {
      this.finishInit({
        state: 'init-error',
        initDurationMs: performance.now() - this.initStartedAt,
        errorType,
        errorMessage: `Runtime exited with error: ${reason}`,
      });
      return;
    }
    const current = this.current;
    if (current) {
      this.settle(current, {
        state: 'errored',
        durationMs: performance.now() - current.startedAt!,
        errorType,
        errorMessage: `RequestId: ${current.id} Error: Runtime exited with error: ${reason}`,
      });
    }
  }

  /** Stops serving; events still queued fail, as there is no runtime left to serve them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of [...this.queue.splice(0), ...(this.current ? [this.current] : [])]) {
      clearTimeout(pending.timer);
      pending.resolve({
        state: 'errored',
        durationMs: pending.startedAt === undefined ? 0 : performance.now() - pending.startedAt,
        errorType: 'Runtime.Closed',
        errorMessage: 'the runtime API closed before the invocation ended',
      });
    }
    this.current = undefined;
    for (const response of this.waiting.splice(0)) response.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private finishInit(outcome: InitOutcome): void {
    if (this.initOutcome) return;
    this.initOutcome = outcome;
    this.settleInit(outcome);
    if (outcome.state === 'init-error') {
      // Lambda serves an init error in answer to the invocations that were waiting for INIT.
      for (const pending of this.queue.splice(0)) pending.resolve({ state: 'init-error', errorType: outcome.errorType, errorMessage: outcome.errorMessage });
    }
  }

  private settle(pending: Pending, result: InvocationResult): void {
    clearTimeout(pending.timer);
    if (this.current === pending) this.current = undefined;
    pending.resolve(result);
    this.dispatch();
  }

  /** Hands the next queued event to a waiting poll, if the runtime is free. */
  private dispatch(): void {
    while (!this.current && this.queue.length > 0 && this.waiting.length > 0) {
      const response = this.waiting.shift()!;
      if (response.destroyed || response.writableEnded) continue;
      const pending = this.queue.shift()!;
      this.current = pending;
      const deadline = Date.now() + pending.timeoutMs;
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(pending.body),
        'lambda-runtime-aws-request-id': pending.id,
        'lambda-runtime-deadline-ms': String(deadline),
        'lambda-runtime-invoked-function-arn': this.functionArn,
        'lambda-runtime-trace-id': traceId(),
      });
      response.end(pending.body);
      pending.startedAt = performance.now();
      pending.timer = setTimeout(() => {
        this.settle(pending, { state: 'timeout', durationMs: performance.now() - pending.startedAt! });
      }, pending.timeoutMs);
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://runtime').pathname;
    if (!path.startsWith(`${API_PREFIX}/`)) {
      sendJson(response, 404, { errorType: 'NotFound', errorMessage: `no such path: ${path}` });
      return;
    }
    const rest = path.slice(API_PREFIX.length);
    if (rest === '/invocation/next') {
      if (request.method !== 'GET') return this.methodNotAllowed(response);
      // INIT ends when the runtime first asks for an event.
      this.finishInit({ state: 'ready', initDurationMs: performance.now() - this.initStartedAt });
      this.waiting.push(response);
      response.on('close', () => {
        const index = this.waiting.indexOf(response);
        if (index >= 0) this.waiting.splice(index, 1);
      });
      this.dispatch();
      return;
    }
    if (rest === '/init/error') {
      if (request.method !== 'POST') return this.methodNotAllowed(response);
      const body = await readBody(request);
      if (this.initOutcome) {
        sendJson(response, 403, { errorType: 'InvalidStateTransition', errorMessage: 'INIT has already ended' });
        return;
      }
      const { errorType, errorMessage } = parseErrorBody(body, request.headers[ERROR_TYPE_HEADER] as string | undefined);
      this.finishInit({ state: 'init-error', initDurationMs: performance.now() - this.initStartedAt, errorType, errorMessage });
      sendJson(response, 202, { status: 'OK' });
      return;
    }
    const match = /^\/invocation\/([^/]+)\/(response|error)$/.exec(rest);
    if (!match) {
      sendJson(response, 404, { errorType: 'NotFound', errorMessage: `no such path: ${path}` });
      return;
    }
    if (request.method !== 'POST') return this.methodNotAllowed(response);
    const id = decodeURIComponent(match[1]!);
    const body = await readBody(request);
    const current = this.current;
    if (!current || current.id !== id) {
      sendJson(response, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      return;
    }
    const durationMs = performance.now() - current.startedAt!;
    if (match[2] === 'response') {
      if (body.length > MAX_RESPONSE_BYTES) {
        sendJson(response, 413, { errorType: 'RequestEntityTooLarge', errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` });
        this.settle(current, {
          state: 'errored',
          durationMs,
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size (${body.length} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        });
        return;
      }
      sendJson(response, 202, { status: 'OK' });
      this.settle(current, { state: 'completed', durationMs, response: decodeResponse(body) });
    } else {
      sendJson(response, 202, { status: 'OK' });
      this.settle(current, { state: 'errored', durationMs, ...parseErrorBody(body, request.headers[ERROR_TYPE_HEADER] as string | undefined) });
    }
  }

  private methodNotAllowed(response: ServerResponse): void {
    sendJson(response, 405, { errorType: 'MethodNotAllowed', errorMessage: 'method not allowed' });
  }
}
