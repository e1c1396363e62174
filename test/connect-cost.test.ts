import { describe, expect, it } from 'vitest';
import { measureConnectCost } from '../harness/run/connect-cost.ts';

describe('measureConnectCost', () => {
  it('measures the client\'s CPU per new connection, plain and TLS, as a small positive figure', async () => {
    // Whether TLS comes out dearer than plain is not asserted: on this 2-core machine under other
    // test suites the paired medians came out from 1.4x to 3.5x, and once (a CI run) equal at
    // 0.076 ms. What must hold is a figure: positive, and far below a millisecond's worth of 50.
    const plain = await measureConnectCost({ library: 'undici', tls: false, connections: 200 });
    const tls = await measureConnectCost({ library: 'undici', tls: true, connections: 200 });
    expect(plain.connections).toBe(200);
    for (const measured of [plain, tls]) {
      expect(measured.connectCpuMs).toBeGreaterThan(0);
      expect(measured.connectCpuMs).toBeLessThan(50);
    }
  }, 120_000);

  it('times global fetch too, through an undici Agent that trusts the throwaway certificate', async () => {
    const fetched = await measureConnectCost({ library: 'fetch', tls: true, connections: 50 });
    expect(fetched.connectCpuMs).toBeGreaterThan(0);
    expect(fetched.connectCpuMs).toBeLessThan(50);
  }, 120_000);

  it('refuses a count of connections that is not a positive integer', async () => {
    await expect(measureConnectCost({ library: 'undici', tls: false, connections: 0 })).rejects.toThrow(/connections/);
  });
});
