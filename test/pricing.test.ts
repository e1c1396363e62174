import { describe, expect, it } from 'vitest';
import {
  billedDurationMs,
  costBreakdown,
  FREE_TIER,
  GB_SECOND_USD,
  invocationCost,
  REGION_PRICES,
  REQUEST_USD,
  regionPrices,
  tieredComputeUsd,
} from '../harness/model/pricing.ts';
import { InputError } from '../harness/errors.ts';

const x86 = GB_SECOND_USD.x86_64;
const arm = GB_SECOND_USD.arm64;

describe('billed duration', () => {
  it('rounds up to the next whole millisecond', () => {
    expect(billedDurationMs(8012.4)).toBe(8013);
    expect(billedDurationMs(8000)).toBe(8000);
    expect(billedDurationMs(0.2)).toBe(1);
  });

  it('does not add a millisecond for float noise just above a whole number', () => {
    expect(billedDurationMs(0.1 + 0.2 + 7999.7)).toBe(8000);
  });
});

describe('list prices', () => {
  it('are the published us-east-1 prices', () => {
    expect(GB_SECOND_USD).toEqual({ x86_64: 0.0000166667, arm64: 0.0000133334 });
    expect(REQUEST_USD * 1_000_000).toBeCloseTo(0.2, 12);
  });

  it('are the same in the other standard regions', () => {
    expect(regionPrices('eu-west-1')).toEqual({ gbSecondUsd: { x86_64: 0.0000166667, arm64: 0.0000133334 }, requestUsd: REQUEST_USD });
    expect(Object.keys(REGION_PRICES)).toContain('ap-southeast-2');
  });

  it('refuse an unknown region, naming lambda.region and the known regions', () => {
    expect(() => regionPrices('af-south-1')).toThrow(InputError);
    expect(() => regionPrices('moon-1')).toThrow(/lambda\.region: no Lambda prices known for region "moon-1".*us-east-1, us-east-2/);
    expect(() => regionPrices('toString')).toThrow(/lambda\.region/);
  });
});

describe('AWS published examples, to the cent', () => {
  it('512 MB x86 for 1 s, a million times, costs $8.33 of duration plus $0.20 of requests', () => {
    const cost = costBreakdown({ billedMs: 1000, memoryMb: 512, architecture: 'x86_64', invocationsPerMonth: 1_000_000 });
    expect(cost.gbSecondsPerMonth).toBe(500_000);
    expect(cost.computeUsdPerMonth.toFixed(2)).toBe('8.33');
    expect(cost.requestUsdPerMonth.toFixed(2)).toBe('0.20');
    expect(cost.perMonth.toFixed(2)).toBe('8.53');
    expect(cost.perMonth).toBeCloseTo(8.53335, 9);
  });

  it('the mobile backend example (1536 MB x86, 120 ms, 3 million requests) costs $9.60', () => {
    const cost = costBreakdown({ billedMs: 120, memoryMb: 1536, architecture: 'x86_64', invocationsPerMonth: 3_000_000 });
    expect(cost.gbSecondsPerMonth).toBeCloseTo(540_000, 6);
    expect(cost.computeUsdPerMonth.toFixed(2)).toBe('9.00');
    expect(cost.perMonth.toFixed(2)).toBe('9.60');
  });

  it('the same backend on arm64 costs $7.20 of duration, $7.80 in all', () => {
    const cost = costBreakdown({ billedMs: 120, memoryMb: 1536, architecture: 'arm64', invocationsPerMonth: 3_000_000 });
    expect(cost.computeUsdPerMonth).toBeCloseTo(540_000 * arm, 9);
    expect(cost.perMonth.toFixed(2)).toBe('7.80');
  });

  it('with the free tier, 512 MB for 1 s three million times bills 1.1M GB-s and 2M requests', () => {
    const cost = costBreakdown({ billedMs: 1000, memoryMb: 512, architecture: 'x86_64', invocationsPerMonth: 3_000_000, freeTier: true });
    expect(cost.computeUsdPerMonth).toBeCloseTo(1_100_000 * x86, 9);
    expect(cost.requestUsdPerMonth).toBeCloseTo(0.4, 12);
    expect(cost.perMonth.toFixed(2)).toBe('18.73');
  });
});

describe('the case study', () => {
  it('at the same memory, 23 s -> 8 s cuts the GB-second charge by 65%', () => {
    const common = { memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 8_640 } as const;
    const before = costBreakdown({ ...common, billedMs: 23_000 });
    const after = costBreakdown({ ...common, billedMs: 8_000 });
    expect(after.computeUsdPerMonth / before.computeUsdPerMonth).toBeCloseTo(8 / 23, 12);
    expect(1 - after.computeUsdPerMonth / before.computeUsdPerMonth).toBeCloseTo(0.652, 3);
    expect(before.computeUsdPerMonth).toBeCloseTo(23 * 8_640 * x86, 9);
  });
});

describe('monthly volume tiers', () => {
  it('charge x86 GB-seconds in full up to exactly 6 billion', () => {
    expect(tieredComputeUsd(6e9, 'x86_64', x86)).toBeCloseTo(100_000.2, 6);
  });

  it('take 10% off x86 GB-seconds between 6 and 15 billion', () => {
    expect(tieredComputeUsd(7e9, 'x86_64', x86)).toBeCloseTo(100_000.2 + 15_000.03, 6);
    expect(tieredComputeUsd(15e9, 'x86_64', x86)).toBeCloseTo(100_000.2 + 135_000.27, 6);
  });

  it('take 20% off x86 GB-seconds over 15 billion', () => {
    expect(tieredComputeUsd(20e9, 'x86_64', x86)).toBeCloseTo(235_000.47 + 66_666.8, 6);
  });

  it('move the arm64 boundaries to 7.5 and 18.75 billion', () => {
    expect(tieredComputeUsd(7.5e9, 'arm64', arm)).toBeCloseTo(100_000.5, 6);
    expect(tieredComputeUsd(18.75e9, 'arm64', arm)).toBeCloseTo(100_000.5 + 135_000.675, 6);
    expect(tieredComputeUsd(20e9, 'arm64', arm)).toBeCloseTo(235_001.175 + 13_333.4, 6);
  });

  it('apply to a function whose month crosses a boundary, not to its per-invocation list price', () => {
    // 1 GB for 1 s is 1 GB-s per invocation: 7 billion invocations cross the first x86 boundary.
    const cost = costBreakdown({ billedMs: 1000, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 7e9 });
    expect(cost.computeUsdPerMonth).toBeCloseTo(115_000.23, 5);
    expect(cost.perMonth).toBeCloseTo(115_000.23 + 1_400, 5);
    expect(cost.perInvocation).toBeCloseTo(x86 + REQUEST_USD, 15);
  });
});

describe('INIT billing', () => {
  it('adds the rounded-up INIT duration of the cold share of invocations', () => {
    const cost = costBreakdown({
      billedMs: 8000,
      memoryMb: 1024,
      architecture: 'x86_64',
      invocationsPerMonth: 1000,
      initMs: 500.3,
      coldStartRate: 0.1,
    });
    expect(cost.billedMsPerInvocation).toBeCloseTo(8050.1, 9);
    expect(cost.gbSecondsPerMonth).toBeCloseTo(8050.1, 6);
    expect(cost.perInvocation).toBeCloseTo(8.0501 * x86 + REQUEST_USD, 15);
  });

  it('counts every invocation as cold when only initMs is given', () => {
    const cost = costBreakdown({ billedMs: 1000, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 1, initMs: 250 });
    expect(cost.billedMsPerInvocation).toBe(1250);
  });

  it('refuses a cold-start rate outside [0, 1]', () => {
    expect(() => costBreakdown({ billedMs: 1, memoryMb: 128, architecture: 'x86_64', invocationsPerMonth: 1, initMs: 1, coldStartRate: 1.5 })).toThrow(
      /coldStartRate: must be in \[0, 1\], got 1.5/,
    );
  });
});

describe('free tier', () => {
  it('makes a month that fits inside it free', () => {
    const cost = costBreakdown({ billedMs: 8000, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 8_640, freeTier: true });
    expect(cost.perMonth).toBe(0);
    expect(cost.perInvocation).toBeCloseTo(8 * x86 + REQUEST_USD, 15);
  });

  it('is 400,000 GB-s and a million requests', () => {
    expect(FREE_TIER).toEqual({ gbSeconds: 400_000, requests: 1_000_000 });
  });
});

describe('invocationCost', () => {
  it('keeps its two-number shape and, below the tiers, perMonth = perInvocation x invocations', () => {
    const cost = invocationCost({ billedMs: 8013, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 8_640 });
    expect(Object.keys(cost)).toEqual(['perInvocation', 'perMonth']);
    expect(cost.perInvocation).toBeCloseTo(8.013 * x86 + REQUEST_USD, 15);
    expect(cost.perMonth).toBeCloseTo(cost.perInvocation * 8_640, 12);
    expect(cost.perMonth.toFixed(2)).toBe('1.16');
  });

  it('prices another known region the same way', () => {
    const cost = invocationCost({ billedMs: 1000, memoryMb: 1024, architecture: 'arm64', invocationsPerMonth: 10, region: 'eu-central-1' });
    expect(cost.perMonth).toBeCloseTo(10 * (arm + REQUEST_USD), 15);
  });
});
