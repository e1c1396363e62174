import { describe, expect, it } from 'vitest';
import { criticalPath, idealMakespanMs, SERVER_IDLE_TIMEOUT_MS, simulate } from '../harness/model/simulate.ts';
import type { ScenarioInput } from '../harness/scenario/schema.ts';
import { fixed, modelScenario } from './helpers/scenario-files.ts';

/**
 * The Connections rules of docs/job-model.md, each on a case small enough to follow by hand.
 * `{ host, count }` requests go to https://host/... (2 setup round trips); `{ url: 'http://...' }` to port 80 (1).
 */

/** Four requests of 100 ms to a host 10 ms away, unless the test says otherwise. */
function scenario(overrides: Partial<ScenarioInput>) {
  return modelScenario({ requests: [{ host: 'a.example', count: 4 }], hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10 } }, ...overrides });
}

const fourHttps = scenario({});

describe('connections: the pool and the setup round trips', () => {
  it('opens one connection per worker and reuses it when the host keeps it alive', () => {
    // t=0 r0 and r1 each open a connection: 2 x 10 ms (TCP + TLS), served 20..120. At 120 both
    // connections are idle; r2 and r3 take them and are served 120..220: 2 x 10 + 100 + 100.
    const result = simulate(fourHttps, { concurrency: 2 });
    expect(result.makespanMs).toBe(220);
    expect(result.connectionsOpened).toBe(2);
    expect(result.requestLatencyMs).toEqual([120, 120, 100, 100]);
    expect(idealMakespanMs(fourHttps, 2)).toBe(220);
  });

  it('opens a connection per attempt when the host closes it after every answer', () => {
    // Every request pays its 20 ms handshake: 2 x (20 + 100).
    const closing = scenario({ hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, keepAlive: false } } });
    const result = simulate(closing, { concurrency: 2 });
    expect(result.makespanMs).toBe(240);
    expect(result.connectionsOpened).toBe(4);
    expect(result.requestLatencyMs).toEqual([120, 120, 120, 120]);
  });

  it('costs one round trip on http and two on https', () => {
    // http: 10 + 100; https: 20 + 100.
    const http = scenario({ requests: [{ url: 'http://a.example/x' }] });
    const https = scenario({ requests: [{ url: 'https://a.example/x' }] });
    expect(simulate(http, { concurrency: 1 }).makespanMs).toBe(110);
    expect(simulate(https, { concurrency: 1 }).makespanMs).toBe(120);
  });

  it('costs nothing without rttMs, but still counts the connections', () => {
    const free = scenario({ hosts: { 'a.example': { latencyMs: fixed(100) } } });
    const result = simulate(free, { concurrency: 2 });
    expect(result.makespanMs).toBe(200);
    expect(result.connectionsOpened).toBe(2);
  });
});

describe('connections: maxConnections', () => {
  const oneConnection = scenario({ hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, maxConnections: 1 } } });

  it('makes a new connection past the limit wait; the server closes an idle one for it', () => {
    // t=0 r0 gets connection A (20..120); r1's connection B waits. At 120 A goes idle, and the server
    // closes it for B: B connects 120..140, r1 served 140..240. r2 (sent at 120) finds no idle
    // connection, so its C waits until B is closed at 240: 260..360. r3 (240) likewise: 380..480.
    const result = simulate(oneConnection, { concurrency: 2 });
    expect(result.makespanMs).toBe(480);
    expect(result.connectionsOpened).toBe(4);
    expect(result.requestLatencyMs).toEqual([120, 240, 240, 240]);
  });

  it('lets one worker keep its connection: concurrency 1 beats 2 at maxConnections 1', () => {
    // 20 + 4 x 100 on one connection.
    const result = simulate(oneConnection, { concurrency: 1 });
    expect(result.makespanMs).toBe(420);
    expect(result.connectionsOpened).toBe(1);
  });

  it('counts the connections of both schemes of a host against its limit', () => {
    // r0 over http: 10 + 100, its connection then idle. r1 over https needs its own connection: the
    // server closes the idle http one to admit it, 110..130, served 130..230.
    const twoSchemes = scenario({
      requests: [{ url: 'http://a.example/x' }, { url: 'https://a.example/y' }],
      hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, maxConnections: 1 } },
    });
    const result = simulate(twoSchemes, { concurrency: 1 });
    expect(result.makespanMs).toBe(230);
    expect(result.connectionsOpened).toBe(2);
  });

  it('closes the connection of an attempt given up while it was still connecting', () => {
    // timeoutMs 110. r0: 20 + 100 = 120 after sending: too late, abandoned at 110 and its
    // connection A closed. r1's B waited for A: admitted at 110, and r1 (sent at 0 too) is
    // abandoned at that same instant, before B's handshake is done. Retries 0: both fail.
    const tight = scenario({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, maxConnections: 1 } },
      client: { timeoutMs: 110, retries: 0 },
    });
    const result = simulate(tight, { concurrency: 2 });
    expect(result.makespanMs).toBe(110);
    expect(result.errorsByKind.timeout).toBe(2);
    expect(result.errors).toBe(2);
    // The host admitted both.
    expect(result.connectionsOpened).toBe(2);
    expect(result.rowsWritten).toBe(0);
  });
});

describe("connections: the client's CPU per new connection", () => {
  it('runs connectCpuMs / cpuShare on the event loop after the round trips, before the request is sent', () => {
    // 5 ms at a share of 0.5 is 10 ms, one connection after the other: r0's CPU 20..30, r1's 30..40.
    // r0 served 30..130, r1 40..140; r2 and r3 reuse the connections, 130..230 and 140..240.
    const result = simulate(fourHttps, { concurrency: 2, connectCpuMs: 5, cpuShare: 0.5 });
    expect(result.makespanMs).toBe(240);
    expect(result.cpuWorkMs).toBe(10);
    expect(result.requestLatencyMs).toEqual([130, 140, 100, 100]);
    // The ideal takes the CPU as free but counts the round trips.
    expect(idealMakespanMs(fourHttps, 2)).toBe(220);
  });

  it('runs connectOpenCpuMs when the connection starts, so that connections opened at once all open before any finishes', () => {
    // Both open at 0: r0 0..2, r1 2..4 (share 0.5: 1 ms each). Round trips to 20; then the rest,
    // 4 ms each: r0 20..28, r1 28..36. r0 served 28..128, r1 36..136; r2 and r3 reuse the
    // connections, to 228 and 236.
    const result = simulate(fourHttps, { concurrency: 2, connectOpenCpuMs: 1, connectCpuMs: 4, cpuShare: 0.5 });
    expect(result.makespanMs).toBe(236);
    expect(result.cpuWorkMs).toBe(10);
    expect(result.requestLatencyMs).toEqual([128, 136, 100, 100]);
    // An opening longer than the round trips holds the connection back until it is done: r0 opens
    // 0..30, r1 30..60; r0's rest waits behind r1's opening (60..70), r1's rest 70..80.
    const slowOpen = simulate(fourHttps, { concurrency: 2, connectOpenCpuMs: 30, connectCpuMs: 10 });
    expect(slowOpen.requestLatencyMs.slice(0, 2)).toEqual([170, 180]);
    // With no round trip and nothing after the opening, the opening alone holds the request back.
    const near = scenario({ requests: [{ host: 'a.example', count: 2 }], hosts: { 'a.example': { latencyMs: fixed(100) } } });
    expect(simulate(near, { concurrency: 2, connectOpenCpuMs: 5 }).requestLatencyMs).toEqual([105, 110]);
  });

  it('runs connectHelloCpuMs once the TCP round trip is done and the loop is free, and the rest after the TLS round trip', () => {
    // Opens: r0 0..2, r1 2..4. TCP done at 10: hellos r0 10..11, r1 11..12. TLS round trip: the
    // rest r0 21..24, r1 24..27; served 24..124 and 27..127; r2 and r3 reuse the connections.
    const result = simulate(fourHttps, { concurrency: 2, connectOpenCpuMs: 2, connectHelloCpuMs: 1, connectCpuMs: 3 });
    expect(result.requestLatencyMs).toEqual([124, 127, 100, 100]);
    expect(result.makespanMs).toBe(227);
    expect(result.cpuWorkMs).toBe(12);
    // The same CPU with no hello, all of it after the round trips: r0's rest 20..24, r1's 24..28.
    expect(simulate(fourHttps, { concurrency: 2, connectOpenCpuMs: 2, connectCpuMs: 4 }).requestLatencyMs).toEqual([124, 128, 100, 100]);
  });

  it('pays it again for every attempt when the host closes its connections', () => {
    // Concurrency 1: 4 x (20 + 5 + 100).
    const closing = scenario({ hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, keepAlive: false } } });
    const result = simulate(closing, { concurrency: 1, connectCpuMs: 5 });
    expect(result.makespanMs).toBe(500);
    expect(result.cpuWorkMs).toBe(20);
  });
});

describe('connections: closing', () => {
  const one = (hostOverrides: object, client: object) =>
    scenario({
      requests: [{ host: 'a.example', count: 1 }],
      hosts: { 'a.example': { latencyMs: fixed(50), rttMs: 10, ...hostOverrides } },
      client,
    });

  it('closes a reset connection, so the retry opens a new one; a 503 keeps it', () => {
    // Reset: 0..20 connect, 20..70 reset, wait 30, 100..120 connect again, 120..170 reset.
    const reset = simulate(one({ resetRate: 1 }, { retries: 1, backoffMs: 30 }), { concurrency: 1 });
    expect(reset.makespanMs).toBe(170);
    expect(reset.connectionsOpened).toBe(2);
    // 503: 0..20 connect, 20..70 503, wait 30, 100..150 503 on the same connection.
    const error = simulate(one({ errorRate: 1 }, { retries: 1, backoffMs: 30 }), { concurrency: 1 });
    expect(error.makespanMs).toBe(150);
    expect(error.connectionsOpened).toBe(1);
  });

  it('closes the connection of an abandoned attempt, and counts the setup against the deadline', () => {
    // 0..20 connect, the server never answers, abandoned at 300; wait 100; 400..420 connect, abandoned at 700.
    const silent = simulate(one({ timeoutRate: 1 }, { timeoutMs: 300, retries: 1, backoffMs: 100 }), { concurrency: 1 });
    expect(silent.makespanMs).toBe(700);
    expect(silent.connectionsOpened).toBe(2);
    // 20 + 50 = 70 after sending: in time at 70, late at 69.
    expect(simulate(one({}, { timeoutMs: 70, retries: 0 }), { concurrency: 1 }).errors).toBe(0);
    expect(simulate(one({}, { timeoutMs: 69, retries: 0 }), { concurrency: 1 }).errorsByKind.timeout).toBe(1);
  });

  it("closes a connection idle for the server's keep-alive timeout", () => {
    expect(SERVER_IDLE_TIMEOUT_MS).toBe(5000);
    // Concurrency 1: r0 to a (20 + 100, idle from 120), r1 to b (no rttMs, latencyMs B), r2 to a
    // at 120 + B. Idle 120 + B - 120 = B ms: reused below 5000, closed at 5000 and beyond.
    const gap = (bMs: number, idleTimeoutMs?: number) =>
      simulate(
        scenario({
          requests: [
            { host: 'a.example', count: 1 },
            { host: 'b.example', count: 1 },
            { host: 'a.example', count: 1 },
          ],
          hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10 }, 'b.example': { latencyMs: fixed(bMs) } },
        }),
        { concurrency: 1, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}) },
      );
    // 120 + 4999 + 100.
    expect(gap(4999)).toMatchObject({ makespanMs: 5219, connectionsOpened: 2 });
    // 120 + 5000 + 20 + 100: a new handshake.
    expect(gap(5000)).toMatchObject({ makespanMs: 5240, connectionsOpened: 3 });
    // A client that closes idle connections sooner (undici: 2 s before the server's announced timeout).
    expect(gap(3000, 3000)).toMatchObject({ makespanMs: 3240, connectionsOpened: 3 });
  });

  it('returns a connection answered with 429 to the pool', () => {
    // Burst 1, rps 10. Both connect 0..20; at 20 r0 takes the only token (served 20..120) and r1,
    // finding none, is answered 429 with retry-after 100 on its own connection B, which goes back to
    // the pool. At 120 r0's answer frees A too, and r1's retry takes the most recently used, A:
    // the bucket has refilled one token, served 120..220. No third connection.
    const limited = scenario({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, rateLimit: { rps: 10, burst: 1 } } },
      client: { retries: 1 },
    });
    const result = simulate(limited, { concurrency: 2 });
    expect(result.errorsByKind.http429).toBe(1);
    expect(result.makespanMs).toBe(220);
    expect(result.connectionsOpened).toBe(2);
  });

  it('refuses a negative connectCpuMs', () => {
    expect(() => simulate(fourHttps, { concurrency: 1, connectCpuMs: -1 })).toThrow(/connectCpuMs/);
    expect(() => simulate(fourHttps, { concurrency: 1, connectOpenCpuMs: -1 })).toThrow(/connectOpenCpuMs/);
    expect(() => simulate(fourHttps, { concurrency: 1, connectHelloCpuMs: Number.NaN })).toThrow(/connectHelloCpuMs/);
    expect(() => simulate(fourHttps, { concurrency: 1, serverConnectMs: -1 })).toThrow(/serverConnectMs/);
  });
});

describe("the replay's servers as one more resource (serverMsPerAttempt)", () => {
  const plain = scenario({ hosts: { 'a.example': { latencyMs: fixed(100) } } });

  it('reads the attempts one after another before the host acts on them', () => {
    // Four workers send at 0; the servers read them at 10, 20, 30, 40; each answered 100 ms later.
    const result = simulate(plain, { concurrency: 4, serverMsPerAttempt: 10 });
    expect(result.makespanMs).toBe(140);
    expect(result.requestLatencyMs).toEqual([110, 120, 130, 140]);
  });

  it('costs a serial job its delay on every attempt, with nothing to wait behind', () => {
    // 4 x (10 + 100).
    expect(simulate(plain, { concurrency: 1, serverMsPerAttempt: 10 }).makespanMs).toBe(440);
  });

  it('reads after the connection is set up, and acts on the host then (its rate limit included)', () => {
    // https, 10 ms round trips: both connect 0..20, read at 30 and 40. One token a second (burst 1):
    // r0 takes it at 30; r1, read at 40, gets a 429 with Retry-After 990 ms and its single retry
    // (kept-alive connection) is read at 1030 + 10 and served from 1040 to 1140.
    const limited = scenario({
      requests: [{ host: 'a.example', count: 2 }],
      hosts: { 'a.example': { latencyMs: fixed(100), rttMs: 10, rateLimit: { rps: 1, burst: 1 } } },
      client: { retries: 1 },
    });
    const result = simulate(limited, { concurrency: 2, serverMsPerAttempt: 10 });
    expect(result.errorsByKind.http429).toBe(1);
    expect(result.makespanMs).toBe(1140);
  });

  it('accepts new connections one host at a time in turn, not in the order they were opened', () => {
    // Three connections to a, then one to b, all at 0 without round trips; 10 ms each at the
    // servers: a0 0..10, then b0 (the next host) 10..20, a1 20..30, a2 30..40; each served 100 ms.
    const twoHosts = scenario({
      requests: [
        { host: 'a.example', count: 3 },
        { host: 'b.example', count: 1 },
      ],
      hosts: { 'a.example': { latencyMs: fixed(100) }, 'b.example': { latencyMs: fixed(100) } },
    });
    const result = simulate(twoHosts, { concurrency: 4, serverConnectMs: 10 });
    expect(result.requestLatencyMs).toEqual([110, 130, 140, 120]);
    expect(result.connectionsOpened).toBe(4);
    // In production there are no such servers: the connections cost nothing.
    expect(simulate(twoHosts, { concurrency: 4 }).requestLatencyMs).toEqual([100, 100, 100, 100]);
  });

  it("accepts all the connections a host had waiting when its turn came before the next host's", () => {
    // c0 is accepted at once (0..10); meanwhile a0, a1, a2 and b0 wait. a's turn takes all three
    // (10..40), then b0 (40..50), although b0's hello came before the servers reached a1.
    const threeHosts = scenario({
      requests: [
        { host: 'c.example', count: 1 },
        { host: 'a.example', count: 3 },
        { host: 'b.example', count: 1 },
      ],
      hosts: { 'a.example': { latencyMs: fixed(100) }, 'b.example': { latencyMs: fixed(100) }, 'c.example': { latencyMs: fixed(100) } },
    });
    expect(simulate(threeHosts, { concurrency: 5, serverConnectMs: 10 }).requestLatencyMs).toEqual([110, 120, 130, 140, 150]);
  });

  it('does the handshakes on the loop that reads the attempts, each in its turn', () => {
    // Handshakes a0 0..10, a1 10..20 (its hello was waiting). a0's request reaches the servers at
    // 10, behind a1's handshake: read 20..25; a1's read 25..30. Answered at 125 and 130.
    const two = scenario({ requests: [{ host: 'a.example', count: 2 }], hosts: { 'a.example': { latencyMs: fixed(100) } } });
    expect(simulate(two, { concurrency: 2, serverConnectMs: 10, serverMsPerAttempt: 5 }).requestLatencyMs).toEqual([125, 130]);
  });

  it('changes nothing at 0', () => {
    expect(simulate(fourHttps, { concurrency: 2, serverMsPerAttempt: 0 })).toEqual(simulate(fourHttps, { concurrency: 2 }));
  });

  it('refuses a negative or infinite cost', () => {
    expect(() => simulate(plain, { concurrency: 1, serverMsPerAttempt: -1 })).toThrow(/serverMsPerAttempt/);
    expect(() => simulate(plain, { concurrency: 1, serverMsPerAttempt: Number.POSITIVE_INFINITY })).toThrow(/serverMsPerAttempt/);
  });
});

describe('the timeline of an invocation and its critical path', () => {
  const twoHosts = (slowMs: number) =>
    scenario({
      requests: [{ url: 'http://a.example/1' }, { url: 'http://b.example/1' }, { url: 'http://a.example/2' }, { url: 'http://a.example/3' }],
      hosts: { 'a.example': { latencyMs: fixed(100) }, 'b.example': { latencyMs: fixed(slowMs) } },
    });

  it('records when each request started and was done, and which request started it', () => {
    // Two workers: a1 0..100, b1 0..250; a2 started by a1 at 100..200; a3 by a2 at 200..300.
    const { timeline } = simulate(twoHosts(250), { concurrency: 2, timeline: true });
    expect(timeline).toEqual({ startMs: [0, 0, 100, 200], doneMs: [100, 250, 200, 300], startedBy: [-1, -1, 0, 2] });
    expect(criticalPath(timeline!)).toEqual([0, 2, 3]);
  });

  it('is the slow request alone when it is done last', () => {
    const { timeline } = simulate(twoHosts(350), { concurrency: 2, timeline: true });
    expect(criticalPath(timeline!)).toEqual([1]);
  });

  it('is left out unless asked for', () => {
    expect(simulate(twoHosts(350), { concurrency: 2 }).timeline).toBeUndefined();
  });
});
