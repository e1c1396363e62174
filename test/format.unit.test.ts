import { describe, expect, it } from 'vitest';
import { formatDuration, formatMs, formatUsd } from '../harness/report/format.ts';

describe('money: one rule in the report, the summaries, the recommendation and the comparison', () => {
  it('shows cents with thousands separators from ten cents up', () => {
    expect([1234.5, 1.158, 1.164, 0.7, 0.1, -0.71].map(formatUsd)).toEqual(['$1,234.50', '$1.16', '$1.16', '$0.70', '$0.10', '-$0.71']);
  });

  it('shows three significant digits below ten cents, so that small monthly bills still compare', () => {
    expect([0.0432123, 0.01342, 0.0034, 0.05, 0.0001].map(formatUsd)).toEqual(['$0.0432', '$0.0134', '$0.0034', '$0.05', '$0.0001']);
  });

  it('shows an amount that rounds up to ten cents as cents', () => {
    expect(formatUsd(0.09996)).toBe('$0.10');
  });

  it('shows nothing as $0.00 and less than a hundredth of a cent as <$0.0001', () => {
    expect([0, 0.00001, -0.00001].map(formatUsd)).toEqual(['$0.00', '<$0.0001', '-<$0.0001']);
  });
});

describe('durations', () => {
  it('shows ms below a second, tenths of seconds below 100 s, then whole seconds and, from 10 minutes, minutes', () => {
    expect([850.4, 999.4, 8012.4, 8100, 23_049, 123_456, 599_000, 750_000, 900_000].map(formatDuration)).toEqual([
      '850 ms',
      '999 ms',
      '8.0 s',
      '8.1 s',
      '23.0 s',
      '123 s',
      '599 s',
      '12.5 min',
      '15.0 min',
    ]);
  });

  it('shows medians being compared in ms with one decimal', () => {
    expect([1234.56, 7, 0.04].map(formatMs)).toEqual(['1234.6', '7.0', '0.0']);
  });
});
