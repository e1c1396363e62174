import type { BackendOptions, MockBackend } from './backend.ts';
import { ReplayServer } from './replay-server.ts';

/**
 * What every backend shares: one ReplayServer (its own, or another backend's so that both
 * clients meet the same host queues and buckets) to which invocation state is delegated. A
 * backend adds only how it intercepts requests.
 */
export abstract class ReplayBackend implements MockBackend {
  abstract readonly name: string;
  readonly server: ReplayServer;

  constructor(options: BackendOptions & { server?: ReplayServer }) {
    this.server = options.server ?? new ReplayServer(options.scenario, options.timeScale);
  }

  abstract start(): void;
  abstract stop(): void;

  beginInvocation(timeScale?: number): void {
    this.server.beginInvocation(timeScale);
  }

  mockCpuMs(): number {
    return this.server.mockCpuMs();
  }

  unmockedRequests(): readonly string[] {
    return this.server.unmockedRequests();
  }

  mockFailures(): readonly string[] {
    return this.server.mockFailures();
  }
}
