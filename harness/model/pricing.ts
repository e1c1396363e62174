/**
 * Lambda pricing (us-east-1, checked 2026-11). Pure functions: no clock, no environment.
 * Extended with regions, tiers, INIT billing and the free tier by the cost issue.
 */
export type Architecture = 'x86_64' | 'arm64';

export const GB_SECOND_USD: Record<Architecture, number> = { x86_64: 0.0000166667, arm64: 0.0000133334 };
export const REQUEST_USD = 0.2 / 1_000_000;

/** Lambda bills duration per 1 ms, rounded up. */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs - 1e-9));
}

export interface InvocationCost {
  perInvocation: number;
  perMonth: number;
}

export function invocationCost(options: {
  billedMs: number;
  memoryMb: number;
  architecture: Architecture;
  invocationsPerMonth: number;
}): InvocationCost {
  const gbSeconds = (options.billedMs / 1000) * (options.memoryMb / 1024);
  const perInvocation = gbSeconds * GB_SECOND_USD[options.architecture] + REQUEST_USD;
  return { perInvocation, perMonth: perInvocation * options.invocationsPerMonth };
}
