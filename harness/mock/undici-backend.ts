import { Dispatcher, errors, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { unmockedMessage, type BackendOptions } from './backend.ts';
import { ReplayBackend } from './replay-backend.ts';
import type { ReplayServer, OkAnswer, ServeOutcome, WaitingClient } from './replay-server.ts';

/**
 * The scenario's hosts served to undici clients (undici.request, undici.fetch, and Node's global
 * fetch, which reads the same global dispatcher) by a dispatcher that never opens a socket.
 *
 * Why not undici's MockAgent: its reply callback must give the status code synchronously, and a
 * replayed host only knows whether it answers 200, 429 or 503 (or resets, or never answers) once
 * its queue and its drawn latency have passed. MockAgent also matches every request against its
 * interceptor list. A dispatcher of our own answers after `await server.serve(url)` with an O(1)
 * host lookup and has MockAgent's `disableNetConnect()` semantics by construction: it has no
 * connection to fall back to, so an unknown host fails with a message naming the URL.
 *
 * node:http clients (axios, got) do not go through a dispatcher; serve those with the msw backend.
 */

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 429: 'Too Many Requests', 503: 'Service Unavailable' };
const NO_TRAILERS: string[] = [];
const NO_TRAILER_OBJECT: Record<string, string> = {};
const noop = (): void => {};

/**
 * One request in flight. It adapts the answer to whichever handler API the client passed: undici
 * 7's (`onRequestStart`, `onResponseStart`, ...) or the older one undici.request and Node 20's
 * bundled fetch still use (`onConnect`, `onHeaders`, ...).
 */
class ReplayExchange implements Dispatcher.DispatchController, WaitingClient {
  private done = false;
  private abortReason: Error | null = null;
  private resolveAborted: (() => void) | undefined;
  private abortedPromise: Promise<void> | undefined;
  private readonly modern: boolean;

  constructor(private readonly handler: Dispatcher.DispatchHandler) {
    this.modern = typeof handler.onRequestStart === 'function';
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }
  get paused(): boolean {
    return false;
  }
  get reason(): Error | null {
    return this.abortReason;
  }
  // The whole body is one chunk already in memory: there is nothing to pause.
  pause(): void {}
  resume(): void {}
  abort(reason: Error): void {
    if (this.done) return;
    this.abortReason = reason;
    this.resolveAborted?.();
    this.fail(reason);
  }

  /** Resolves when the client gives up: all a host that never answers waits for. Built only for those. */
  gaveUp(): Promise<void> {
    this.abortedPromise ??= this.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.resolveAborted = resolve;
        });
    return this.abortedPromise;
  }

  hasGivenUp(): boolean {
    return this.aborted;
  }

  get finished(): boolean {
    return this.done;
  }

  start(): void {
    if (this.modern) this.handler.onRequestStart!(this, {});
    else this.handler.onConnect?.((reason) => this.abort(reason ?? new errors.RequestAbortedError()));
  }

  respond(status: number, headers: Readonly<Record<string, string>>, rawHeaders: Buffer[], body: Buffer | undefined): void {
    if (this.done) return;
    this.done = true;
    const handler = this.handler;
    const statusText = STATUS_TEXT[status] ?? '';
    if (this.modern) {
      handler.onResponseStart?.(this, status, headers, statusText);
      if (body && !this.aborted) handler.onResponseData?.(this, body);
      if (!this.aborted) handler.onResponseEnd?.(this, NO_TRAILER_OBJECT);
    } else {
      handler.onHeaders?.(status, rawHeaders, noop, statusText);
      if (body && !this.aborted) handler.onData?.(body);
      if (!this.aborted) handler.onComplete?.(NO_TRAILERS);
    }
  }

  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    if (this.modern) this.handler.onResponseError?.(this, error);
    else this.handler.onError?.(error);
  }
}

function rawHeadersOf(headers: Readonly<Record<string, string>>): Buffer[] {
  const raw: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) raw.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'));
  return raw;
}

/**
 * The undici Dispatcher that answers from the ReplayServer, charging its own work (but not the
 * awaited queue and latency, nor the client's handler callbacks) to the server's mock CPU time.
 */
export class ReplayDispatcher extends Dispatcher {
  /** The raw header form of each prebuilt 200 answer, built once. */
  private readonly rawOkHeaders = new WeakMap<OkAnswer, Buffer[]>();
  private readonly unmockedError = new Map<string, string>();

  constructor(private readonly server: ReplayServer) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const started = performance.now();
    const exchange = new ReplayExchange(handler);
    const origin = typeof options.origin === 'string' ? options.origin : String(options.origin ?? '');
    const url = origin.endsWith('/') && options.path.startsWith('/') ? origin + options.path.slice(1) : origin + options.path;
    const served = this.server.serve(url, exchange);
    this.server.chargeCpu(performance.now() - started);
    exchange.start();
    served.then(
      (outcome) => this.answer(exchange, url, outcome),
      (error: unknown) => {
        // Never let a fault of the mock pass for a reset or a 5xx of the scenario's server.
        this.server.recordFailure(`${url}: ${error instanceof Error ? error.message : String(error)}`);
        exchange.fail(new Error(`the mock failed on ${url}`));
      },
    );
    return true;
  }

  private answer(exchange: ReplayExchange, url: string, outcome: ServeOutcome): void {
    if (exchange.finished) return;
    const started = performance.now();
    switch (outcome.kind) {
      case 'ok': {
        let raw = this.rawOkHeaders.get(outcome);
        if (!raw) {
          raw = rawHeadersOf(outcome.headers);
          this.rawOkHeaders.set(outcome, raw);
        }
        this.server.chargeCpu(performance.now() - started);
        exchange.respond(200, outcome.headers, raw, outcome.body);
        return;
      }
      case 'status': {
        const raw = rawHeadersOf(outcome.headers);
        this.server.chargeCpu(performance.now() - started);
        exchange.respond(outcome.status, outcome.headers, raw, undefined);
        return;
      }
      case 'reset':
        exchange.fail(new errors.SocketError('other side closed'));
        return;
      case 'unmocked': {
        let message = this.unmockedError.get(url);
        if (message === undefined) {
          message = unmockedMessage(url);
          this.unmockedError.set(url, message);
        }
        exchange.fail(new Error(message));
        return;
      }
      case 'no-answer':
        // The client gave up (its abort already failed the exchange); nothing is ever sent.
        return;
    }
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }

  override destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The undici backend: ReplayDispatcher installed as undici's global dispatcher. Pass the msw
 * backend's ReplayServer as `server` when both run in one process, so they share host state.
 */
export class UndiciBackend extends ReplayBackend {
  readonly name = 'undici';
  private readonly dispatcher: ReplayDispatcher;
  private previous: Dispatcher | undefined;

  constructor(options: BackendOptions & { server?: ReplayServer }) {
    super(options);
    this.dispatcher = new ReplayDispatcher(this.server);
  }

  start(): void {
    if (this.previous) return;
    this.previous = getGlobalDispatcher();
    setGlobalDispatcher(this.dispatcher);
  }

  stop(): void {
    if (!this.previous) return;
    setGlobalDispatcher(this.previous);
    this.previous = undefined;
  }
}
