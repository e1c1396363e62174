import { describe, expect, it } from 'vitest';
import { cpuShare, heapLimitMb, projectDurationMs, singleThreadShare } from '../harness/model/lambda.ts';

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

describe('heap limit for a cell process', () => {
  it('leaves 40 MB of the memory size for non-heap RSS', () => {
    expect(heapLimitMb(128)).toBe(88);
    expect(heapLimitMb(1024)).toBe(984);
    expect(heapLimitMb(10_240)).toBe(10_200);
  });

  it('never goes below 64 MB', () => {
    expect(heapLimitMb(128, 80)).toBe(64);
    expect(heapLimitMb(90)).toBe(64);
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
