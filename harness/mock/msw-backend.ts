import { BatchInterceptor } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { FetchInterceptor } from '@mswjs/interceptors/fetch';
import { UnmockedRequestError } from './backend.ts';
import { ReplayBackend } from './replay-backend.ts';
import type { OkAnswer, ReplayServer, ServeOutcome } from './replay-server.ts';

interface InterceptedRequest {
  request: Request;
  controller: { respondWith(response: Response): void; errorWith(reason?: unknown): void };
}

/**
 * msw's interception layer (@mswjs/interceptors) patches global fetch and node:http/https (so
 * axios, got, node-fetch) in this process, and every request it catches goes straight to the
 * ReplayServer. Used directly rather than through msw's setupServer, whose request handler
 * pipeline (handler resolution, request clones, lifecycle events) more than doubled the CPU per
 * request for features the replay does not use: at concurrency 1000 that was most of the run.
 */
export class MswBackend extends ReplayBackend {
  readonly name = 'msw';
  private interceptor: BatchInterceptor<[ClientRequestInterceptor, FetchInterceptor]> | undefined;

  start(): void {
    const interceptor = new BatchInterceptor({ name: 'fanout-tuner-replay', interceptors: [new ClientRequestInterceptor(), new FetchInterceptor()] });
    interceptor.apply();
    interceptor.on('request', (event: InterceptedRequest) => answer(this.server, event));
    this.interceptor = interceptor;
  }

  stop(): void {
    this.interceptor?.dispose();
    this.interceptor = undefined;
  }
}

async function answer(replay: ReplayServer, { request, controller }: InterceptedRequest): Promise<void> {
  const url = request.url;
  let outcome: ServeOutcome;
  try {
    outcome = await replay.serve(url, { gaveUp: () => abortOf(request.signal), hasGivenUp: () => request.signal.aborted });
  } catch (error) {
    // Never let a fault of the mock pass for a 5xx of the scenario's server.
    replay.recordFailure(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    controller.respondWith(Response.error());
    return;
  }
  // A client that gave up (its timeout, a reset it caused) already has its error: the
  // interceptor answered the abort itself, and answering again would only fail.
  if (request.signal.aborted) return;
  // A network error naming the URL, whatever the client: never a response, never a socket.
  if (outcome.kind === 'unmocked') {
    controller.errorWith(new UnmockedRequestError(url));
    return;
  }
  const started = performance.now();
  const response = toResponse(outcome);
  replay.chargeCpu(performance.now() - started);
  controller.respondWith(response);
}

function toResponse(outcome: Exclude<ServeOutcome, { kind: 'unmocked' }>): Response {
  switch (outcome.kind) {
    case 'ok':
      return okResponse(outcome);
    case 'status':
      return new Response(null, { status: outcome.status, headers: outcome.headers });
    case 'reset':
    case 'no-answer':
      return Response.error();
  }
}

function okResponse(answer: OkAnswer): Response {
  // The Buffer is shared by every attempt at this page; Response copies what it is given.
  return new Response(answer.body as Uint8Array<ArrayBuffer>, { status: 200, headers: answer.headers });
}

function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
