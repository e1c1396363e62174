import { describe, expect, it } from 'vitest';
import { cpuShare, lambdaNodeArgs, lambdaNodeHeap, projectDurationMs, singleThreadShare } from '../harness/model/lambda.ts';

describe('CPU share by memory size', () => {
  it('is one vCPU at 1,769 MB and scales linearly', () => {
    expect(cpuShare(1769)).toBe(1);
    expect(cpuShare(3538)).toBe(2);
    expect(cpuShare(128)).toBe(128 / 1769);
  });

  it('stays under the 6 vCPUs AWS quotes at 10,240 MB and never exceeds 6', () => {
    expect(cpuShare(10_240)).toBeCloseTo(5.788581, 6);
    expect(cpuShare(12_000)).toBe(6);
  });

  it('gives a single thread at most one core', () => {
    expect(singleThreadShare(512)).toBe(512 / 1769);
    expect(singleThreadShare(1769)).toBe(1);
    expect(singleThreadShare(3008)).toBe(1);
  });

  it('refuses a memory size that is not positive', () => {
    expect(() => cpuShare(0)).toThrow('memoryMb must be a positive number, got 0');
  });
});

describe("the Node heap of a memory size, as Lambda's Node runtime sets it", () => {
  it('gives a tenth to the young generation, as two semi-spaces of half of it, and the rest to the old space', () => {
    expect(lambdaNodeHeap(128)).toEqual({ semiSpaceMb: 6, oldSpaceMb: 116 });
    expect(lambdaNodeHeap(1024)).toEqual({ semiSpaceMb: 51, oldSpaceMb: 922 });
    expect(lambdaNodeHeap(1769)).toEqual({ semiSpaceMb: 88, oldSpaceMb: 1593 });
    expect(lambdaNodeHeap(10_240)).toEqual({ semiSpaceMb: 512, oldSpaceMb: 9216 });
  });

  it("is passed as V8's flags, after the runtime's others", () => {
    expect(lambdaNodeArgs(128)).toEqual(['--expose-gc', '--max-http-header-size=81920', '--max-semi-space-size=6', '--max-old-space-size=116']);
  });

  it('refuses a memory size that is not positive', () => {
    expect(() => lambdaNodeHeap(0)).toThrow('memoryMb must be a positive number, got 0');
  });
});

describe('duration projection to another CPU share', () => {
  it('keeps the I/O time and stretches the CPU time by fromShare/toShare', () => {
    expect(projectDurationMs({ measuredWallMs: 23_000, measuredCpuMs: 3_000, fromShare: 1, toShare: 0.5 })).toBe(26_000);
    expect(projectDurationMs({ measuredWallMs: 8_000, measuredCpuMs: 1_000, fromShare: 0.25, toShare: 1 })).toBe(7_250);
  });

  it('floors the I/O time at zero when CPU time exceeds wall time', () => {
    expect(projectDurationMs({ measuredWallMs: 1_000, measuredCpuMs: 1_500, fromShare: 2, toShare: 1 })).toBe(3_000);
  });

  it('returns the measurement unchanged at the same share', () => {
    expect(projectDurationMs({ measuredWallMs: 8_012.4, measuredCpuMs: 950.1, fromShare: 0.58, toShare: 0.58 })).toBeCloseTo(8_012.4, 9);
  });

  it('refuses a share of zero', () => {
    expect(() => projectDurationMs({ measuredWallMs: 1, measuredCpuMs: 1, fromShare: 1, toShare: 0 })).toThrow('toShare must be a positive number, got 0');
  });
});
