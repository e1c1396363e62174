import { describe, expect, it } from 'vitest';
import { measureConnectCost } from '../harness/run/connect-cost.ts';

describe('measureConnectCost', () => {
  it('finds a TLS connection dearer for the client than a plain one', async () => {
    // On a 2-core machine loaded 3 to 8 times over (other test suites), undici measured plain 0.020
    // to 0.055 ms and TLS 0.034 to 0.127 ms per connection, TLS/plain 1.4 to 3.5 within one run:
    // 1.3 leaves room for that noise, while a measurement that missed the handshake (or
    // counted the server's half, or nothing but noise) would not pass it.
    const plain = await measureConnectCost({ library: 'undici', tls: false, connections: 200 });
    const tls = await measureConnectCost({ library: 'undici', tls: true, connections: 200 });
    expect(plain.connections).toBe(200);
    expect(plain.connectCpuMs).toBeGreaterThan(0);
    expect(tls.connectCpuMs).toBeGreaterThan(1.3 * plain.connectCpuMs);
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
