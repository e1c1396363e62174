import { describe, expect, it } from 'vitest';
import { sample, lognormalParameters, median } from '../harness/scenario/distributions.ts';
import { STREAM, uniformAt } from '../harness/scenario/random.ts';
import { drawAttempt, drawSinkLatency, planRequests } from '../harness/scenario/plan.ts';
import { scenarioSchema, type Distribution } from '../harness/scenario/schema.ts';
import { percentile, sortSamples } from '../harness/analyze/statistics.ts';

function draws(dist: Distribution, n: number, seed = 3): number[] {
  return Array.from({ length: n }, (_, i) => sample(dist, uniformAt(seed, i, 0, STREAM.latency, 0), uniformAt(seed, i, 0, STREAM.latency, 1)));
}

describe('seeded draws', () => {
  it('are the same for the same seed, index and attempt, and differ otherwise', () => {
    expect(uniformAt(42, 7, 0, STREAM.latency)).toBe(uniformAt(42, 7, 0, STREAM.latency));
    expect(uniformAt(42, 7, 0, STREAM.latency)).not.toBe(uniformAt(42, 7, 1, STREAM.latency));
    expect(uniformAt(42, 7, 0, STREAM.latency)).not.toBe(uniformAt(43, 7, 0, STREAM.latency));
    expect(uniformAt(42, 7, 0, STREAM.latency)).not.toBe(uniformAt(42, 7, 0, STREAM.fault));
  });

  it('are uniform on (0, 1): mean near 1/2 and each decile near a tenth', () => {
    const u = Array.from({ length: 20_000 }, (_, i) => uniformAt(1, i, 0, STREAM.latency));
    expect(u.reduce((a, b) => a + b, 0) / u.length).toBeCloseTo(0.5, 2);
    for (let d = 0; d < 10; d++) {
      const share = u.filter((x) => x >= d / 10 && x < (d + 1) / 10).length / u.length;
      expect(Math.abs(share - 0.1)).toBeLessThan(0.01);
    }
    expect(Math.min(...u)).toBeGreaterThan(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});

describe('distributions', () => {
  it('fixed always gives its value', () => {
    expect(new Set(draws({ dist: 'fixed', value: 12 }, 100))).toEqual(new Set([12]));
  });

  it('uniform stays within its bounds with the expected mean', () => {
    const x = draws({ dist: 'uniform', min: 100, max: 300 }, 20_000);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...x)).toBeLessThanOrEqual(300);
    expect(x.reduce((a, b) => a + b, 0) / x.length).toBeGreaterThan(198);
    expect(x.reduce((a, b) => a + b, 0) / x.length).toBeLessThan(202);
  });

  it('normal has its mean and standard deviation, never negative', () => {
    const x = draws({ dist: 'normal', mean: 200, sd: 30 }, 20_000);
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1));
    expect(Math.abs(m - 200)).toBeLessThan(1.5);
    expect(Math.abs(sd - 30)).toBeLessThan(1);
    expect(Math.min(...draws({ dist: 'normal', mean: 10, sd: 30 }, 2000))).toBe(0);
  });

  it('lognormal hits the median and p99 it was given', () => {
    const sorted = sortSamples(draws({ dist: 'lognormal', median: 180, p99: 900 }, 40_000));
    expect(Math.abs(percentile(sorted, 0.5) / 180 - 1)).toBeLessThan(0.03);
    expect(Math.abs(percentile(sorted, 0.99) / 900 - 1)).toBeLessThan(0.08);
    expect(lognormalParameters(180, 900).sigma).toBeCloseTo(Math.log(5) / 2.3263478740408408, 12);
  });

  it('state their medians exactly', () => {
    expect(median({ dist: 'fixed', value: 7 })).toBe(7);
    expect(median({ dist: 'uniform', min: 10, max: 30 })).toBe(20);
    expect(median({ dist: 'lognormal', median: 180, p99: 900 })).toBe(180);
    expect(median({ dist: 'empirical', samples: [40, 10, 30, 20] })).toBe(25);
  });

  it('empirical only returns its samples, each about equally often', () => {
    const x = draws({ dist: 'empirical', samples: [5, 50, 500] }, 9000);
    expect(new Set(x)).toEqual(new Set([5, 50, 500]));
    for (const v of [5, 50, 500]) expect(Math.abs(x.filter((y) => y === v).length / 9000 - 1 / 3)).toBeLessThan(0.02);
  });
});

describe('the plan', () => {
  const scenario = scenarioSchema.parse({
    name: 'plan',
    seed: 9,
    requests: [{ host: 'a.example', count: 2 }, { url: 'https://b.example/x?y=1' }],
    hosts: {
      'a.example': { latencyMs: { dist: 'lognormal', median: 100, p99: 500 }, errorRate: 0.5 },
      'b.example': { latencyMs: { dist: 'fixed', value: 7 } },
    },
  });

  it('lists requests in order with their hosts', () => {
    expect(planRequests(scenario)).toEqual([
      { index: 0, url: 'https://a.example/page/0', host: 'a.example' },
      { index: 1, url: 'https://a.example/page/1', host: 'a.example' },
      { index: 2, url: 'https://b.example/x?y=1', host: 'b.example' },
    ]);
  });

  it('gives a request the same draws every time (common random numbers), a new draw per attempt', () => {
    expect(drawAttempt(scenario, 'a.example', 1, 0)).toEqual(drawAttempt(scenario, 'a.example', 1, 0));
    expect(drawAttempt(scenario, 'a.example', 1, 0).latencyMs).not.toBe(drawAttempt(scenario, 'a.example', 1, 1).latencyMs);
    // A page has one size whichever attempt fetches it.
    expect(drawAttempt(scenario, 'a.example', 1, 0).bodyBytes).toBe(drawAttempt(scenario, 'a.example', 1, 1).bodyBytes);
    expect(drawSinkLatency(scenario, 4)).toBe(5);
  });

  it('draws faults at the configured rate', () => {
    const faults = Array.from({ length: 4000 }, (_, i) => drawAttempt(scenario, 'a.example', i, 0).fault);
    expect(Math.abs(faults.filter((f) => f === 'error').length / 4000 - 0.5)).toBeLessThan(0.03);
    expect(faults.every((f) => f === 'error' || f === 'none')).toBe(true);
  });
});
