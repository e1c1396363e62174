import type { BackendOptions } from './backend.ts';
import { MswBackend } from './msw-backend.ts';
import type { ReplayServer } from './replay-server.ts';
import type { ServedCounts } from './tally.ts';
import { UndiciBackend } from './undici-backend.ts';

/**
 * Every client of a process served at once: msw intercepts global fetch and node:http/https (so
 * axios and got), the undici dispatcher serves the `undici` package's request and fetch. Both
 * answer from one ReplayServer, so a host's queue and token bucket see the requests of all
 * clients, and both refuse a host the scenario does not define without a lookup or a socket.
 */
export interface Mocks {
  readonly name: string;
  readonly server: ReplayServer;
  /** Fresh hosts for the next invocation: empty queues, full token buckets, counts at zero. */
  beginInvocation(timeScale?: number): void;
  /** Requests to hosts the scenario does not define, since the last beginInvocation. */
  unmockedRequests(): readonly string[];
  /** Failures of the mock itself since the last beginInvocation. */
  mockFailures(): readonly string[];
  /** The requests served since the last beginInvocation, counted on the server's side. */
  servedCounts(): ServedCounts;
  /** Removes the interception: msw's patches and undici's global dispatcher. */
  stop(): void;
}

export const MOCKS_NAME = 'msw+undici';

export function startMocks(options: BackendOptions): Mocks {
  const undici = new UndiciBackend(options);
  const msw = new MswBackend({ ...options, server: undici.server });
  undici.start();
  msw.start();
  const server = undici.server;
  return {
    name: MOCKS_NAME,
    server,
    beginInvocation: (timeScale) => undici.beginInvocation(timeScale),
    unmockedRequests: () => server.unmockedRequests(),
    mockFailures: () => server.mockFailures(),
    servedCounts: () => server.servedCounts(),
    stop: () => {
      msw.stop();
      undici.stop();
    },
  };
}
