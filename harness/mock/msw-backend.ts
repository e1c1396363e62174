import type { ClientRequest } from 'node:http';
import { BatchInterceptor, getRawRequest, RequestController } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { FetchInterceptor } from '@mswjs/interceptors/fetch';
import { UnmockedRequestError } from './backend.ts';
import { ReplayBackend } from './replay-backend.ts';
import type { OkAnswer, ServeOutcome, WaitingClient } from './replay-server.ts';

/** The arguments of an interceptor's "request" event. */
interface InterceptedRequest {
  request: Request;
  controller: RequestController;
}

/**
 * The client of an exchange intercepted from global fetch: it gives up when its signal aborts
 * (the Request follows the signal the client passed).
 */
class FetchClient implements WaitingClient {
  constructor(private readonly signal: AbortSignal) {}

  gaveUp(): Promise<void> {
    const signal = this.signal;
    return new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  hasGivenUp(): boolean {
    return this.signal.aborted;
  }
}

/**
 * The client of an exchange intercepted from node:http/https (axios, got): it gives up by
 * destroying its request (its timeout), which an AbortSignal of the interceptor's Request never
 * shows.
 */
class NodeHttpClient implements WaitingClient {
  constructor(private readonly raw: ClientRequest | undefined) {}

  gaveUp(): Promise<void> {
    const raw = this.raw;
    return new Promise<void>((resolve) => {
      if (!raw || raw.destroyed) resolve();
      else raw.once('close', () => resolve());
    });
  }

  hasGivenUp(): boolean {
    return this.raw?.destroyed ?? false;
  }
}

/**
 * The msw backend: msw's own interception layer (@mswjs/interceptors) patches global fetch and
 * node:http/https (so axios, got, node-fetch) in this process, and one listener per client kind
 * answers every request from the ReplayServer.
 *
 * Why not msw's setupServer: for each request it resolves handlers, clones the response for its
 * lifecycle events (a stream tee) and runs a request pipeline the replay does not use, and its
 * node:http interception replaces the global Headers, Request and Response with proxies that
 * record raw header casing, which every Request and Response of the process then pays for. This
 * backend keeps the interception (the same code msw runs) and drops the rest: together about
 * half the CPU per fetch request at high concurrency.
 */
export class MswBackend extends ReplayBackend {
  readonly name = 'msw';
  private interceptor: BatchInterceptor<[ClientRequestInterceptor, FetchInterceptor]> | undefined;

  start(): void {
    if (this.interceptor) return;
    const fetchInterceptor = new FetchInterceptor();
    const nodeHttpInterceptor = new ClientRequestInterceptor();
    const interceptor = new BatchInterceptor({ name: 'fanout-tuner-replay', interceptors: [nodeHttpInterceptor, fetchInterceptor] });
    const patchedBefore = headerPatchesInstalled();
    interceptor.apply();
    // Only if this backend installed them: another msw in the process may rely on its own.
    if (!patchedBefore) removeHeaderPatches();
    fetchInterceptor.on('request', ({ request, controller }: InterceptedRequest) => this.answer(request, controller, new FetchClient(request.signal), true));
    nodeHttpInterceptor.on('request', ({ request, controller }: InterceptedRequest) =>
      this.answer(request, controller, new NodeHttpClient(getRawRequest(request) as ClientRequest | undefined), false),
    );
    this.interceptor = interceptor;
  }

  stop(): void {
    this.interceptor?.dispose();
    this.interceptor = undefined;
  }

  private async answer(request: Request, controller: RequestController, client: WaitingClient, fetchClient: boolean): Promise<void> {
    const url = request.url;
    let outcome: ServeOutcome;
    try {
      outcome = await this.server.serve(url, client);
    } catch (error) {
      return this.fault(url, controller, error);
    }
    if (controller.readyState !== RequestController.PENDING) return;
    // A host that never answers sends nothing, and the client has given up: fetch's interceptor
    // fails the request with the signal's reason itself (answering first would replace it). A
    // node:http request is closed here, though its socket is destroyed and takes nothing more: a
    // request a listener leaves unhandled is one the interceptor sends to the network.
    if (outcome.kind === 'no-answer' || client.hasGivenUp()) {
      if (!fetchClient) controller.respondWith(Response.error());
      return;
    }
    // The error itself, not a network error: the client's error then names the URL, whatever the client.
    if (outcome.kind === 'unmocked') return controller.errorWith(new UnmockedRequestError(url));
    try {
      const started = performance.now();
      const response = fetchClient ? fetchResponse(outcome) : nodeHttpResponse(outcome);
      this.server.chargeCpu(performance.now() - started);
      controller.respondWith(response);
    } catch (error) {
      // Thrown out of this listener, it would reach the client as the interceptor's own answer to
      // a listener that throws: a 500 "Unhandled Exception", counted as the scenario's server's.
      this.fault(url, controller, error);
    }
  }

  /** Never lets a fault of the mock pass for a 5xx of the scenario's server: the cell reports it as the mock's. */
  private fault(url: string, controller: RequestController, error: unknown): void {
    this.server.recordFailure(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    if (controller.readyState === RequestController.PENDING) controller.respondWith(Response.error());
  }
}

/** An outcome the host answers: with a response, or by breaking the connection. */
type Answered = Exclude<ServeOutcome, { kind: 'unmocked' | 'no-answer' }>;

/**
 * What the fetch interceptor needs of a response: it builds the client's Response itself from
 * status, headers and body, so a response-like object with the prebuilt bytes as body saves a
 * Response (and its body stream) per request. The interceptor copies the bytes it is given.
 */
interface ResponseLike {
  readonly status: number;
  readonly statusText: string;
  /** A Headers: the interceptor reads content-encoding from it; the client's Response gets a copy. */
  readonly headers: Headers;
  readonly body: Uint8Array | null;
  readonly bodyUsed: false;
  readonly type: 'default';
}

function fetchResponse(outcome: Answered): Response {
  switch (outcome.kind) {
    case 'ok':
      return asResponse(okLike(outcome));
    case 'status':
      return asResponse({ status: outcome.status, statusText: '', headers: new Headers(outcome.headers), body: null, bodyUsed: false, type: 'default' });
    case 'reset':
      return Response.error();
  }
}

const okLikes = new WeakMap<OkAnswer, ResponseLike>();

function okLike(answer: OkAnswer): ResponseLike {
  let like = okLikes.get(answer);
  if (!like) {
    like = { status: 200, statusText: 'OK', headers: new Headers(answer.headers), body: answer.body, bodyUsed: false, type: 'default' };
    okLikes.set(answer, like);
  }
  return like;
}

/** The interceptor accepts response-like objects (see fetchResponse); its type says Response. */
function asResponse(like: ResponseLike): Response {
  return like as unknown as Response;
}

/** node:http clients read a real Response's body stream: one is built per request. */
function nodeHttpResponse(outcome: Answered): Response {
  switch (outcome.kind) {
    case 'ok':
      return new Response(outcome.body as Uint8Array<ArrayBuffer>, { status: 200, headers: outcome.headers });
    case 'status':
      return new Response(null, { status: outcome.status, headers: outcome.headers });
    case 'reset':
      return Response.error();
  }
}

/**
 * The node:http interceptor replaces the global Headers, Request and Response with proxies that
 * record the raw casing of header names, for its mocked responses' `rawHeaders`. The replay's
 * header names are lowercase already, and the proxies cost every Request and Response of the
 * process (the job's own fetch calls included) a second Headers object: they are removed right
 * after the interceptor is applied, with the interceptor's own restore function.
 */
function headerPatchRestore(): (() => void) | undefined {
  const symbol = Object.getOwnPropertySymbols(Headers).find((s) => s.description === 'kRestorePatches');
  const restore: unknown = symbol ? Reflect.get(Headers, symbol) : undefined;
  return typeof restore === 'function' ? (restore as () => void) : undefined;
}

function headerPatchesInstalled(): boolean {
  return headerPatchRestore() !== undefined;
}

function removeHeaderPatches(): void {
  headerPatchRestore()?.();
}
