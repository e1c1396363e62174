import type { Scenario } from '../scenario/schema.ts';

/**
 * The harness-overhead benchmark of issue 6: N requests of a fixed latency and body size to one
 * host without limits, no parsing, a sink that costs nothing, so that an infinitely fast client
 * and mock would take exactly ceil(N / c) x latency.
 */
export type OverheadHarness = 'msw' | 'undici' | 'naive' | 'naive-mock' | 'fetch-client';

/**
 * What each harness is: the msw backend with global fetch as the client; the undici backend with
 * undici.request; the naive msw harness (its mock and its own job); 'naive-mock', the naive
 * harness's mock answering the built-in job, so that the msw backend is compared with it on the
 * same job; and 'fetch-client', global fetch answered by the undici backend's dispatcher, below
 * any interception layer: what the fetch client alone costs, the floor the msw backend's CPU and
 * memory are read against.
 */
export function clientOf(harness: OverheadHarness): 'undici' | 'fetch' {
  return harness === 'undici' ? 'undici' : 'fetch';
}

export interface OverheadSpec {
  harness: OverheadHarness;
  concurrency: number;
  requests: number;
  latencyMs: number;
  bodyBytes: number;
  /** Timed invocations after the warm-up. */
  reps: number;
  /**
   * Runs the process with the Node flags Lambda gives this memory size, its heap above all, as a
   * sweep's cell of that size runs; V8's own defaults without it.
   */
  lambdaMemoryMb?: number;
}

export interface OverheadRep {
  durationMs: number;
  cpuMs: number;
  /** The mock's own CPU time; undefined for the naive harness, which does not measure it. */
  mockCpuMs: number | undefined;
  errors: number;
}

export interface OverheadMeasurement {
  spec: OverheadSpec;
  idealMs: number;
  reps: OverheadRep[];
  /** Peak RSS of the whole process (warm-up included), MB. */
  peakRssMb: number;
  /** V8's heap limit in that process (old space and young generation), MB. */
  heapLimitMb: number;
}

/**
 * What the bench sends the measuring process: the scenarios come parsed, as a sweep's cells get
 * theirs, so that the process never loads the scenario's validator (zod), whose modules would
 * count in its peak RSS.
 */
export interface OverheadTask {
  spec: OverheadSpec;
  /** The timed invocations' scenario. */
  scenario: Scenario;
  /** The warm-up's: the same requests answered at once, fewer of them at low concurrency. */
  warmup: Scenario;
}

/** What the measuring process sends back; the bench adds the spec and the ideal. */
export type OverheadChildResult = Omit<OverheadMeasurement, 'spec' | 'idealMs'>;

export const BENCH_HOST = 'bench.example';

/** Enough to warm the JIT up; fewer at low concurrency, where each instant answer still waits for a 1 ms timer. */
export function warmupRequests(spec: Pick<OverheadSpec, 'concurrency'>): number {
  return Math.min(3000, 300 * spec.concurrency);
}

/** What an infinitely fast client and mock would take. */
export function idealOverheadMs(spec: Pick<OverheadSpec, 'concurrency' | 'requests' | 'latencyMs'>): number {
  return Math.ceil(spec.requests / spec.concurrency) * spec.latencyMs;
}
