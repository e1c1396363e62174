import { HttpResponse, RequestHandler, type DefaultBodyType, type StrictRequest } from 'msw';
import { setupServer } from 'msw/node';
import { UnmockedRequestError, unmockedMessage } from './backend.ts';
import { ReplayBackend } from './replay-backend.ts';
import { type ReplayServer, type OkAnswer, type ServeOutcome } from './replay-server.ts';

type HandlerResult = Awaited<ReturnType<RequestHandler['run']>>;

/**
 * The one msw handler: every request goes straight to the ReplayServer. It overrides msw's
 * `run`, which for `http.all('*')` would match the path with a regular expression, clone the
 * request and create (and abort) an AbortController per request: about a tenth of msw's CPU per
 * request, for features the replay does not use.
 */
class ReplayHandler extends RequestHandler {
  constructor(private readonly replay: ReplayServer) {
    super({ info: { header: 'fanout-tuner replay' }, resolver: () => undefined });
  }

  predicate(): boolean {
    return true;
  }

  log(): void {}

  override async run(args: { request: StrictRequest<DefaultBodyType>; requestId: string }): Promise<HandlerResult> {
    const { request, requestId } = args;
    const url = request.url;
    let outcome: ServeOutcome;
    try {
      outcome = await this.replay.serve(url, { gaveUp: () => abortOf(request.signal), hasGivenUp: () => request.signal.aborted });
    } catch (error) {
      // Never let a fault of the mock pass for a 5xx of the scenario's server.
      this.replay.recordFailure(`${url}: ${error instanceof Error ? error.message : String(error)}`);
      return { handler: this, request, requestId, response: HttpResponse.error(), parsedResult: {} };
    }
    // Thrown, not a Response.error(): the client's error then names the URL, whatever the client.
    if (outcome.kind === 'unmocked') throw new UnmockedRequestError(url);
    const started = performance.now();
    const response = this.toResponse(url, outcome);
    this.replay.chargeCpu(performance.now() - started);
    return { handler: this, request, requestId, response, parsedResult: {} };
  }

  private toResponse(url: string, outcome: ServeOutcome): Response {
    switch (outcome.kind) {
      case 'ok':
        return okResponse(outcome);
      case 'status':
        return new Response(null, { status: outcome.status, headers: outcome.headers });
      case 'unmocked':
      case 'reset':
      case 'no-answer':
        return Response.error();
    }
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

/**
 * msw intercepts global fetch and node:http/https (so axios, got, node-fetch) in this process.
 * One handler with an O(1) lookup of the URL and prebuilt bodies keeps msw's own cost per
 * request as low as msw allows; the rest of msw's cost (a Request and a Response object per
 * request, and a copy of each response for its lifecycle events) is in msw itself.
 */
export class MswBackend extends ReplayBackend {
  readonly name = 'msw';
  private api: ReturnType<typeof setupServer> | undefined;

  start(): void {
    const api = setupServer(new ReplayHandler(this.server));
    this.api = api;
    api.listen({
      // The handler matches every request; this only guards against a change in msw.
      onUnhandledRequest: (request) => {
        throw new Error(unmockedMessage(request.url));
      },
    });
  }

  stop(): void {
    this.api?.close();
    this.api = undefined;
  }
}
