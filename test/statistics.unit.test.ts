import { describe, expect, it } from 'vitest';
import { median, medianInPlace, percentile, sortSamples } from '../harness/analyze/statistics.ts';

describe('the median every module uses', () => {
  it('is the middle value, or the mean of the two middle ones, whatever the order', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 30, 20])).toBe(25);
    expect(median([7])).toBe(7);
    expect(median([0.1, 0.2])).toBe((0.1 + 0.2) / 2);
  });

  it('leaves its input as it was', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('agrees with percentile 0.5 and with the in-place median of the bootstrap', () => {
    const samples = [5.5, 1.25, 9, 3, 7.75, 2];
    expect(median(samples)).toBe(percentile(sortSamples(samples), 0.5));
    const scratch = [...samples];
    expect(medianInPlace(scratch)).toBe(4.25);
    expect(scratch).toEqual([1.25, 2, 3, 5.5, 7.75, 9]);
  });

  it('refuses no samples and samples that are not finite numbers', () => {
    expect(() => median([])).toThrow('no samples');
    expect(() => medianInPlace([])).toThrow('no samples');
    expect(() => median([1, Number.NaN])).toThrow('samples must be finite numbers');
  });
});
