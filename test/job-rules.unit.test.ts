import { describe, expect, it } from 'vitest';
import { HostState } from '../harness/mock/host.ts';
import { backoffAfterMs } from '../harness/model/backoff.ts';
import { statedRetryAfterMs, TokenBucket } from '../harness/model/token-bucket.ts';
import type { HostSpec } from '../harness/scenario/schema.ts';

describe('the token bucket shared by the replay and the simulator', () => {
  it('starts full with burst tokens and then answers with the time until the next token', () => {
    const bucket = new TokenBucket({ rps: 10, burst: 3 });
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    // Empty: one token comes every 100 ms.
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(40)).toBe(60);
    expect(bucket.take(100)).toBe(0);
  });

  it('holds max(1, rps) tokens when burst is not given, and never more than burst', () => {
    expect(new TokenBucket({ rps: 40 }).burst).toBe(40);
    expect(new TokenBucket({ rps: 0.5 }).burst).toBe(1);
    const bucket = new TokenBucket({ rps: 1000, burst: 2 });
    // A long idle spell refills 2 tokens, not 10,000.
    expect([bucket.take(0), bucket.take(0), bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([0, 0, 0, 0, 1]);
  });

  it('lets a request through when ten refills of a tenth add up to a hair under one token', () => {
    // 10 x 0.1 is 0.9999999999999999 in floating point; in exact arithmetic the bucket holds one token.
    const bucket = new TokenBucket({ rps: 10, burst: 1 });
    const answers = [bucket.take(0)];
    for (let t = 10; t <= 100; t += 10) answers.push(bucket.take(t));
    expect(answers.slice(0, 10).map((ms) => Math.round(ms * 1e6) / 1e6)).toEqual([0, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
    // Without the tolerance this would be a 429 telling the client to wait 1e-14 ms.
    expect(answers[10]).toBe(0);
  });

  it('refills from the start time it was given', () => {
    const bucket = new TokenBucket({ rps: 10, burst: 1 }, 5000);
    expect([bucket.take(5000), bucket.take(5050), bucket.take(5100)]).toEqual([0, 50, 0]);
  });
});

describe('the wait a 429 states', () => {
  it('rounds up to the whole ms, at least 1, without turning float noise into an extra ms', () => {
    expect(statedRetryAfterMs(100.00000000001, 'ms')).toBe(100);
    expect(statedRetryAfterMs(100.2, 'ms')).toBe(101);
    expect(statedRetryAfterMs(0.3, 'ms')).toBe(1);
  });

  it('rounds up to whole seconds when the host only sends Retry-After', () => {
    expect(statedRetryAfterMs(0.3, 'seconds')).toBe(1000);
    expect(statedRetryAfterMs(1000, 'seconds')).toBe(1000);
    expect(statedRetryAfterMs(1000.5, 'seconds')).toBe(2000);
  });
});

describe('a mocked host of the replay', () => {
  const spec = (retryAfter: 'ms' | 'seconds'): HostSpec =>
    ({ latencyMs: { dist: 'fixed', value: 1 }, bodyBytes: { dist: 'fixed', value: 1 }, rateLimit: { rps: 10, burst: 1, retryAfter } }) as HostSpec;

  it('runs the bucket on scenario time: at time scale 4, 25 ms of the clock refill what 100 ms do', () => {
    const host = new HostState(spec('ms'), 1000, 4);
    expect(host.admit(1000)).toBe(0);
    expect(host.admit(1010)).toBe(60);
    expect(host.admit(1025)).toBe(0);
    expect(host.admit(1025)).toBe(100);
  });

  it('states the wait in whole seconds when the host sends only Retry-After', () => {
    const host = new HostState(spec('seconds'), 0, 1);
    expect([host.admit(0), host.admit(0)]).toEqual([0, 1000]);
  });

  it('admits everything without a rate limit', () => {
    const host = new HostState({ ...spec('ms'), rateLimit: undefined } as HostSpec, 0, 1);
    expect([host.admit(0), host.admit(0), host.admit(0)]).toEqual([0, 0, 0]);
  });
});

describe('the backoff after a 5xx, a reset or a timeout', () => {
  it('doubles from backoffMs with each attempt', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffAfterMs(100, attempt))).toEqual([100, 200, 400, 800]);
    expect(backoffAfterMs(0, 5)).toBe(0);
  });
});
