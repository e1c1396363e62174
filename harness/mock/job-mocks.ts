import { callFence } from '../isolate/fence-control.ts';
import type { FenceTally } from '../isolate/fence-protocol.ts';
import type { BackendOptions } from './backend.ts';
import type { ServedCounts } from './tally.ts';

/**
 * The mocks as the cell process sees them, whichever backend serves the job: in this process
 * (msw and undici interception) or in the fence host over real sockets (`net`). Either way the
 * cell asks for fresh hosts before an invocation and for what the servers saw after it.
 */
export interface JobMocks {
  readonly name: string;
  begin(timeScale: number): Promise<void>;
  end(): Promise<InvocationTally>;
  stop(): void;
}

/** What the mocks saw of one invocation. */
export interface InvocationTally {
  served: ServedCounts;
  /** Requests to URLs the scenario does not define. */
  unmocked: string[];
  /** Names looked up that the scenario does not define (`net`: the fence's name server). */
  lookups: string[];
  failures: string[];
  /** The mock's CPU inside the job's process, ms: 0 where the servers run elsewhere. */
  mockCpuMs: number;
  /** `net` only: connections the servers accepted, and the CPU they spent outside the job. */
  connectionsOpened?: number;
  serverCpuMs?: number;
  /** How late the hosts' latency timers fired, real ms on average (docs/job-model.md, The replay's timers). */
  latencyTimerLateMs?: number;
}

/**
 * The msw and undici backends in this process. Loaded only here: a cell served over real sockets
 * (`net`) has no use for them, and their modules (the undici package above all) would count in
 * its job's memory.
 */
export async function inProcessMocks(options: BackendOptions): Promise<JobMocks> {
  const { startMocks } = await import('./all-clients.ts');
  const mocks = startMocks(options);
  return {
    name: mocks.name,
    begin: async (timeScale) => mocks.beginInvocation(timeScale),
    end: async () => ({
      served: mocks.servedCounts(),
      unmocked: [...mocks.unmockedRequests()],
      lookups: [],
      failures: [...mocks.mockFailures()],
      mockCpuMs: mocks.server.mockCpuMs(),
      ...lateness(mocks.server.latencyTimerLateMs()),
    }),
    stop: () => mocks.stop(),
  };
}

/** The `net` backend's servers, reached through the fence host's control socket. */
export function fencedServerMocks(controlSocket: string): JobMocks {
  return {
    name: 'net',
    begin: async (timeScale) => {
      await callFence(controlSocket, 'POST', `/begin?timeScale=${timeScale}`);
    },
    end: async () => {
      const tally = JSON.parse(await callFence(controlSocket, 'GET', '/tally')) as FenceTally;
      return {
        served: tally.served,
        unmocked: tally.unmocked,
        lookups: tally.lookups,
        failures: tally.failures,
        mockCpuMs: 0,
        connectionsOpened: tally.connectionsOpened,
        serverCpuMs: tally.serverCpuMs,
        ...lateness(tally.latencyTimerLateMs),
      };
    },
    stop: () => {},
  };
}

function lateness(latencyTimerLateMs: number | undefined): { latencyTimerLateMs?: number } {
  return latencyTimerLateMs === undefined ? {} : { latencyTimerLateMs };
}
