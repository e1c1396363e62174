import { describe, expect, it } from 'vitest';
import { idealMakespanMs, simulate } from '../harness/model/simulate.ts';
import { loadScenario } from '../harness/scenario/load.ts';

describe('the bundled scenarios', () => {
  it('the seed case takes about 23 s serially and about 8 s at 60 workers', () => {
    const seed = loadScenario('scenarios/seed-case-study.json');
    expect(idealMakespanMs(seed, 1) / 1000).toBeCloseTo(23, 0);
    expect(idealMakespanMs(seed, 60) / 1000).toBeGreaterThan(7);
    expect(idealMakespanMs(seed, 60) / 1000).toBeLessThan(8.5);
  });

  it('the rate-limited API is fastest well below the largest concurrency swept', () => {
    const limited = loadScenario('scenarios/rate-limited.json');
    const makespans = limited.sweep.concurrency.map((c) => ({ c, ms: simulate(limited, { concurrency: c }).makespanMs }));
    const fastest = makespans.reduce((a, b) => (b.ms < a.ms ? b : a));
    const largest = makespans.at(-1)!;
    expect(fastest.c).toBeLessThanOrEqual(largest.c / 8);
    expect(largest.ms / fastest.ms).toBeGreaterThan(2);
    // Nobody fails for good: the retries absorb the 429s, the waits are the cost.
    expect(simulate(limited, { concurrency: largest.c }).errors).toBe(0);
  });
});
