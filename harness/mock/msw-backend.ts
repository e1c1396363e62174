import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { unmockedMessage, type BackendOptions, type MockBackend } from './backend.ts';
import { ReplayServer } from './replay-server.ts';

/**
 * msw intercepts global fetch and node:http/https (so axios, got, node-fetch) in this process.
 * One catch-all handler with an O(1) host lookup keeps msw's own cost per request low.
 */
export class MswBackend implements MockBackend {
  readonly name = 'msw';
  readonly server: ReplayServer;
  private api: ReturnType<typeof setupServer> | undefined;

  /** Pass the undici backend's ReplayServer as `server` when both run in one process, so they share host state. */
  constructor(options: BackendOptions & { server?: ReplayServer }) {
    this.server = options.server ?? new ReplayServer(options.scenario, options.timeScale);
  }

  start(): void {
    const replay = this.server;
    const api = setupServer(
      http.all('*', async ({ request }) => {
        const aborted = new Promise<void>((resolve) => {
          if (request.signal.aborted) resolve();
          else request.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        let outcome: Awaited<ReturnType<ReplayServer['serve']>>;
        try {
          outcome = await replay.serve(request.url, aborted);
        } catch (error) {
          // Never let a fault of the mock pass for a 5xx of the scenario's server.
          replay.recordFailure(`${request.url}: ${error instanceof Error ? error.message : String(error)}`);
          return HttpResponse.error();
        }
        switch (outcome.kind) {
          case 'ok':
            return new HttpResponse(outcome.body, { status: 200, headers: { 'content-type': outcome.contentType } });
          case 'status':
            return new HttpResponse(null, { status: outcome.status, headers: outcome.headers });
          case 'unmocked':
            process.stderr.write(`fanout-tuner: ${unmockedMessage(request.url)}\n`);
            return HttpResponse.error();
          case 'reset':
          case 'no-answer':
            return HttpResponse.error();
        }
      }),
    );
    this.api = api;
    api.listen({
      // Anything the catch-all handler does not match (it matches every http URL) is refused too.
      onUnhandledRequest: (request) => {
        throw new Error(unmockedMessage(request.url));
      },
    });
  }

  beginInvocation(): void {
    this.server.beginInvocation();
  }

  unmockedRequests(): readonly string[] {
    return this.server.unmockedRequests();
  }

  mockFailures(): readonly string[] {
    return this.server.mockFailures();
  }

  stop(): void {
    this.api?.close();
    this.api = undefined;
  }
}
