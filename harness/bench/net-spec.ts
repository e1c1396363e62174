import { scenarioSchema, type Scenario } from '../scenario/schema.ts';
import { BENCH_HOST } from './overhead-spec.ts';

/**
 * The `net` part of the overhead benchmark: the same job (N requests of a fixed latency and body
 * size, no parsing, a sink that costs nothing) over real sockets, plain HTTP with keep-alive,
 * against either the `net` backend's replay servers in a fence, or the floor: a bare node:http
 * server (setTimeout, then end the body) in a fence of its own, nothing else. The floor is what
 * this machine's sockets cost; the `net` backend is judged against it.
 */
export type NetServer = 'net' | 'floor';
export type NetClient = 'undici' | 'fetch';

export interface NetSpec {
  server: NetServer;
  client: NetClient;
  concurrency: number;
  requests: number;
  latencyMs: number;
  bodyBytes: number;
  /** Timed invocations after the warm-up. */
  reps: number;
}

export interface NetRep {
  durationMs: number;
  /** The job process's CPU, every thread, ms. */
  cpuMs: number;
  /** The server process's CPU over the invocation, ms (from its begin to its tally). */
  serverCpuMs: number;
  connectionsOpened: number;
  /** Requests the server answered. */
  served: number;
  errors: number;
}

export interface NetMeasurement {
  spec: NetSpec;
  idealMs: number;
  reps: NetRep[];
  /** Peak RSS of the job process (warm-up included), MB. */
  peakRssMb: number;
}

/** What the job process is told: the spec, and the control socket of whichever server it meets. */
export interface NetJobStart {
  spec: NetSpec;
  controlSocket: string;
}

/** The floor server's part of the control protocol the fence host speaks (fence-protocol.ts). */
export interface FloorTally {
  serverCpuMs: number;
  connectionsOpened: number;
  served: number;
}

/** What the floor server is told when it starts. */
export interface FloorStart {
  address: string;
  port: number;
  latencyMs: number;
  bodyBytes: number;
  controlSocket: string;
}

export function netUrls(requests: number): string[] {
  return Array.from({ length: requests }, (_, i) => `http://${BENCH_HOST}/page/${i}`);
}

/**
 * The job's scenario: `urls` (a URL listed twice is fetched twice), one host with a fixed latency
 * and body, kept alive, no limits; no parsing, one sink batch for the whole run.
 */
export function netScenario(spec: Pick<NetSpec, 'client' | 'latencyMs' | 'bodyBytes'>, urls: readonly string[]): Scenario {
  return scenarioSchema.parse({
    name: 'harness-overhead-net',
    seed: 1,
    requests: urls.map((url) => ({ url })),
    hosts: { [BENCH_HOST]: { latencyMs: { dist: 'fixed', value: spec.latencyMs }, bodyBytes: { dist: 'fixed', value: spec.bodyBytes } } },
    work: { parse: 'none' },
    sink: { latencyMs: { dist: 'fixed', value: 0 }, poolSize: 1, batchSize: urls.length },
    client: { timeoutMs: 600_000, retries: 0, library: spec.client },
  });
}
