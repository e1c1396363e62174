import type { Scenario } from '../scenario/schema.ts';
import type { BackendOptions, MockBackend } from './backend.ts';
import { MswBackend } from './msw-backend.ts';
import { UndiciBackend } from './undici-backend.ts';

export const BACKENDS = ['msw', 'undici'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The backend that serves the built-in job's HTTP client: msw for global fetch, undici for undici.request. */
export function backendFor(library: Scenario['client']['library']): BackendName {
  return library === 'undici' ? 'undici' : 'msw';
}

/** The client library a backend serves, for `--backend`. */
export function libraryFor(backend: BackendName): Scenario['client']['library'] {
  return backend === 'undici' ? 'undici' : 'fetch';
}

export function createBackend(options: BackendOptions): MockBackend {
  return backendFor(options.scenario.client.library) === 'undici' ? new UndiciBackend(options) : new MswBackend(options);
}
