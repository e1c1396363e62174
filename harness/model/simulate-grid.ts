import type { ErrorsByKind } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import { idealMakespanMs, simulate, type SimulationOptions } from './simulate.ts';

/** Lambda gives a function one full vCPU at this memory size, and a proportional share below it. */
export const FULL_CORE_MEMORY_MB = 1769;

/** The share of one core a single thread (the event loop) gets at this memory size. */
export function singleThreadShare(memoryMb: number): number {
  if (!(memoryMb > 0)) throw new RangeError(`memoryMb must be positive, got ${memoryMb}`);
  return Math.min(1, memoryMb / FULL_CORE_MEMORY_MB);
}

export interface SimulationGridOptions {
  concurrency: readonly number[];
  memoryMb: readonly number[];
  cpuMsPerResponse?: SimulationOptions['cpuMsPerResponse'];
  cpuMsPerFailure?: number;
}

export interface SimulatedCell {
  concurrency: number;
  memoryMb: number;
  cpuShare: number;
  makespanMs: number;
  /** The same draws with an infinitely fast client: makespanMs / idealMs is the CPU's cost. */
  idealMs: number;
  requests: number;
  errors: number;
  retries: number;
  errorsByKind: ErrorsByKind;
  cpuBusyMs: number;
  rowsWritten: number;
}

/** Simulates every (concurrency, memory) cell, concurrency-major, in the order given. */
export function simulateGrid(scenario: Scenario, options: SimulationGridOptions): SimulatedCell[] {
  const cells: SimulatedCell[] = [];
  for (const concurrency of options.concurrency) {
    // The ideal does not depend on memory: one simulation per concurrency.
    const idealMs = idealMakespanMs(scenario, concurrency);
    for (const memoryMb of options.memoryMb) {
      const cpuShare = singleThreadShare(memoryMb);
      const result = simulate(scenario, {
        concurrency,
        cpuShare,
        ...(options.cpuMsPerResponse !== undefined && { cpuMsPerResponse: options.cpuMsPerResponse }),
        ...(options.cpuMsPerFailure !== undefined && { cpuMsPerFailure: options.cpuMsPerFailure }),
      });
      cells.push({
        concurrency,
        memoryMb,
        cpuShare,
        makespanMs: result.makespanMs,
        idealMs,
        requests: result.requests,
        errors: result.errors,
        retries: result.retries,
        errorsByKind: result.errorsByKind,
        cpuBusyMs: result.cpuBusyMs,
        rowsWritten: result.rowsWritten,
      });
    }
  }
  return cells;
}
