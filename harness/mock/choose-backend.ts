import type { Scenario } from '../scenario/schema.ts';
import type { BackendOptions, MockBackend } from './backend.ts';
import { MswBackend } from './msw-backend.ts';
import { UndiciBackend } from './undici-backend.ts';

/** `net` serves the hosts over real loopback sockets in the cell's namespace; msw and undici intercept in the job's process. */
export const BACKENDS = ['net', 'msw', 'undici'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type InProcessBackend = Exclude<BackendName, 'net'>;

/** The backend that serves the built-in job's HTTP client: msw for global fetch, undici for undici.request. */
export function backendFor(library: Scenario['client']['library']): InProcessBackend {
  return library === 'undici' ? 'undici' : 'msw';
}

/** The client library an in-process backend serves, for `--backend`. */
export function libraryFor(backend: InProcessBackend): Scenario['client']['library'] {
  return backend === 'undici' ? 'undici' : 'fetch';
}

export function createBackend(options: BackendOptions): MockBackend {
  return backendFor(options.scenario.client.library) === 'undici' ? new UndiciBackend(options) : new MswBackend(options);
}
