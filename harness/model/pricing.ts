import { InputError } from '../errors.ts';

/**
 * Lambda pricing (on-demand, checked 2026-11). Pure functions: no clock, no environment.
 *
 * What the model covers: the duration charge per GB-second by architecture and region, the monthly
 * volume tiers, the request charge, the INIT (cold start) phase, which Lambda bills since
 * 2025-08-01, and the optional free tier. What it leaves out: provisioned concurrency, ephemeral
 * storage above 512 MB, data transfer, and the fact that tiers and the free tier count the whole
 * account's usage in a region, not one function's: the model prices the function as if it were
 * the only one.
 */
export type Architecture = 'x86_64' | 'arm64';

/** us-east-1 list prices per GB-second. */
export const GB_SECOND_USD: Record<Architecture, number> = { x86_64: 0.0000166667, arm64: 0.0000133334 };
/** $0.20 per million requests, the same for both architectures. */
export const REQUEST_USD = 0.2 / 1_000_000;

export interface RegionPrices {
  gbSecondUsd: Record<Architecture, number>;
  requestUsd: number;
}

const STANDARD_PRICES: RegionPrices = { gbSecondUsd: GB_SECOND_USD, requestUsd: REQUEST_USD };

/**
 * Regions whose prices we are sure of: the regions that charge the us-east-1 prices. A few regions
 * charge more (Cape Town, Hong Kong, Milan, Bahrain, UAE, Osaka, ...); they are left out rather than
 * guessed, so a results file never carries a made-up price. Add a region here with its published
 * GB-second and request prices.
 */
export const REGION_PRICES: Readonly<Record<string, RegionPrices>> = Object.fromEntries(
  [
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'ca-central-1',
    'sa-east-1',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'eu-central-1',
    'eu-north-1',
    'ap-south-1',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-southeast-1',
    'ap-southeast-2',
  ].map((region) => [region, STANDARD_PRICES]),
);

export function regionPrices(region: string): RegionPrices {
  const prices = Object.hasOwn(REGION_PRICES, region) ? REGION_PRICES[region] : undefined;
  if (!prices) {
    throw new InputError({
      field: 'lambda.region',
      problem: `no Lambda prices known for region "${region}"`,
      fix: `use one of ${Object.keys(REGION_PRICES).join(', ')} (or add the region's published prices to harness/model/pricing.ts)`,
    });
  }
  return prices;
}

/**
 * Monthly volume discounts on the duration charge. Each tier covers GB-seconds up to `upToGbSeconds`
 * (cumulative over the month); the last tier has no upper bound.
 */
export interface VolumeTier {
  upToGbSeconds: number;
  discount: number;
}
export const VOLUME_TIERS: Record<Architecture, readonly VolumeTier[]> = {
  x86_64: [
    { upToGbSeconds: 6e9, discount: 0 },
    { upToGbSeconds: 15e9, discount: 0.1 },
    { upToGbSeconds: Number.POSITIVE_INFINITY, discount: 0.2 },
  ],
  arm64: [
    { upToGbSeconds: 7.5e9, discount: 0 },
    { upToGbSeconds: 18.75e9, discount: 0.1 },
    { upToGbSeconds: Number.POSITIVE_INFINITY, discount: 0.2 },
  ],
};

/** The always-free allowance per month (per account, shared by both architectures). */
export const FREE_TIER = { gbSeconds: 400_000, requests: 1_000_000 } as const;

/** Lambda bills duration per 1 ms, rounded up. */
export function billedDurationMs(durationMs: number): number {
  // The epsilon keeps a duration computed as 8000.0000000001 from a float sum at 8000 ms.
  return Math.max(1, Math.ceil(durationMs - 1e-9));
}

/** GB-seconds of one invocation: billed seconds x memory in GB (1 GB = 1024 MB for Lambda). */
export function gbSeconds(billedMs: number, memoryMb: number): number {
  return (billedMs / 1000) * (memoryMb / 1024);
}

/** The duration charge for a month's GB-seconds, each tier at its own discount. */
export function tieredComputeUsd(gbSecondsPerMonth: number, architecture: Architecture, gbSecondUsd: number): number {
  let usd = 0;
  let lowerBound = 0;
  for (const tier of VOLUME_TIERS[architecture]) {
    if (gbSecondsPerMonth <= lowerBound) break;
    const inTier = Math.min(gbSecondsPerMonth, tier.upToGbSeconds) - lowerBound;
    usd += inTier * gbSecondUsd * (1 - tier.discount);
    lowerBound = tier.upToGbSeconds;
  }
  return usd;
}

export interface CostOptions {
  /** Billed duration of the handler, whole ms (see billedDurationMs). */
  billedMs: number;
  memoryMb: number;
  architecture: Architecture;
  invocationsPerMonth: number;
  /** Defaults to us-east-1. */
  region?: string;
  /** INIT phase of a cold start, ms; billed since 2025-08-01. */
  initMs?: number;
  /**
   * Share of invocations that start cold, in [0, 1]. Defaults to 1 when initMs is given: a job
   * invoked every few minutes usually finds no warm environment, and the pessimistic bound is the
   * one that does not flatter a setting.
   */
  coldStartRate?: number;
  /** Subtract the monthly free tier (400,000 GB-s and 1M requests). Off by default. */
  freeTier?: boolean;
}

export interface CostBreakdown {
  /** List price of one average invocation (first tier, no free tier), INIT share included. */
  perInvocation: number;
  /** The month's bill for this function: tiers and (if asked) the free tier applied. */
  perMonth: number;
  /** Billed ms of one average invocation, INIT share included. */
  billedMsPerInvocation: number;
  gbSecondsPerMonth: number;
  computeUsdPerMonth: number;
  requestUsdPerMonth: number;
}

export interface InvocationCost {
  perInvocation: number;
  perMonth: number;
}

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InputError({ field: name, problem: `must be a non-negative number, got ${value}`, fix: `pass ${name} >= 0` });
  }
}

export function costBreakdown(options: CostOptions): CostBreakdown {
  requireNonNegative('billedMs', options.billedMs);
  requireNonNegative('invocationsPerMonth', options.invocationsPerMonth);
  if (!Number.isFinite(options.memoryMb) || options.memoryMb <= 0) {
    throw new InputError({ field: 'memoryMb', problem: `must be positive, got ${options.memoryMb}`, fix: 'use 128 to 10240 MB' });
  }
  const initMs = options.initMs ?? 0;
  requireNonNegative('initMs', initMs);
  const coldStartRate = options.coldStartRate ?? (options.initMs === undefined ? 0 : 1);
  if (!(coldStartRate >= 0 && coldStartRate <= 1)) {
    throw new InputError({ field: 'coldStartRate', problem: `must be in [0, 1], got ${coldStartRate}`, fix: 'give the share of cold invocations, e.g. 0.1' });
  }
  const prices = regionPrices(options.region ?? 'us-east-1');
  const gbSecondUsd = prices.gbSecondUsd[options.architecture];

  // A cold invocation bills its INIT phase on top of the handler, rounded up to the ms on its own.
  const initBilledMs = initMs > 0 ? billedDurationMs(initMs) : 0;
  const billedMsPerInvocation = options.billedMs + coldStartRate * initBilledMs;
  const invocationGbSeconds = gbSeconds(billedMsPerInvocation, options.memoryMb);
  const perInvocation = invocationGbSeconds * gbSecondUsd + prices.requestUsd;

  const gbSecondsPerMonth = invocationGbSeconds * options.invocationsPerMonth;
  let computeUsdPerMonth = tieredComputeUsd(gbSecondsPerMonth, options.architecture, gbSecondUsd);
  let billableRequests = options.invocationsPerMonth;
  if (options.freeTier) {
    // The free GB-seconds are the first ones of the month, so they come off the full-price tier.
    computeUsdPerMonth -= tieredComputeUsd(Math.min(gbSecondsPerMonth, FREE_TIER.gbSeconds), options.architecture, gbSecondUsd);
    billableRequests = Math.max(0, billableRequests - FREE_TIER.requests);
  }
  const requestUsdPerMonth = billableRequests * prices.requestUsd;
  return {
    perInvocation,
    perMonth: computeUsdPerMonth + requestUsdPerMonth,
    billedMsPerInvocation,
    gbSecondsPerMonth,
    computeUsdPerMonth,
    requestUsdPerMonth,
  };
}

/** The two numbers a results cell stores (`costUsd`). */
export function invocationCost(options: CostOptions): InvocationCost {
  const { perInvocation, perMonth } = costBreakdown(options);
  return { perInvocation, perMonth };
}
