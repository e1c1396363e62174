import { inspect } from 'node:util';
import type { Scenario } from '../scenario/schema.ts';

/**
 * A way of serving the scenario's hosts to the job in this process. Every backend intercepts
 * requests in-process, so nothing leaves the machine, and refuses any host the scenario does not
 * define.
 */
export interface MockBackend {
  readonly name: string;
  /** Installs the interception; from now on no request can reach the network. */
  start(): void;
  /** Fresh hosts for the next invocation: empty queues, full token buckets. */
  beginInvocation(timeScale?: number): void;
  /** Requests to hosts the scenario does not define, since the last beginInvocation. */
  unmockedRequests(): readonly string[];
  /**
   * CPU time of the mock's own work since the last beginInvocation, ms: serving (lookup, bucket,
   * draws, queue) and building responses, without the awaited latency. The projection for
   * production leaves it out.
   */
  mockCpuMs(): number;
  /** Failures of the mock itself since the last beginInvocation: a bug, never a server behaviour. */
  mockFailures(): readonly string[];
  stop(): void;
}

export interface BackendOptions {
  scenario: Scenario;
  /** Latencies run this many times shorter. */
  timeScale: number;
}

/** Human words for a refused request: names the URL and the fix. */
export function unmockedMessage(url: string): string {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the raw string
  }
  return `request to ${url} was blocked: host "${host}" is not defined in the scenario's "hosts" (a sweep never sends a request off this machine; add the host to the scenario)`;
}

/** Human words for names a fenced job looked up that the scenario does not define. */
export function blockedLookupMessage(hosts: readonly string[]): string {
  const named = hosts
    .slice(0, 3)
    .map((host) => `"${host}"`)
    .join(', ');
  const more = hosts.length > 3 ? ` and ${hosts.length - 3} more` : '';
  return `the job looked up ${named}${more}, not defined in the scenario's "hosts", and found nothing (a sweep never sends a request off this machine; add the host to the scenario)`;
}

/**
 * The error a client gets for a request to a host the scenario does not define. The msw backend
 * fails the request with it as it is, and it looks like a Node network error (`code`, `errno`),
 * so axios, got and node:http report this message, not a generic "Network error".
 */
export class UnmockedRequestError extends Error {
  readonly code = 'ERR_FANOUT_UNMOCKED_HOST';
  readonly errno = -1;

  constructor(readonly url: string) {
    super(unmockedMessage(url));
    this.name = 'UnmockedRequestError';
  }

  /** Printed (by a job that logs its errors, say) as one line naming the URL: all there is to say. */
  [inspect.custom](): string {
    return `fanout-tuner: ${this.message}`;
  }
}
