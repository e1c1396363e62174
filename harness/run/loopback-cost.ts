import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';

/**
 * What one HTTP round trip over this machine's loopback costs: wall time and CPU (client and
 * server together, both in this process), over kept-alive connections. Sandboxed kernels
 * (gVisor) charge several times a native kernel's, and the `net` backend pays it on every request,
 * so each sweep on `net` measures it and records it beside its results.
 */
export interface LoopbackCost {
  roundTrips: number;
  wallUsPerRoundTrip: number;
  cpuUsPerRoundTrip: number;
}

export async function measureLoopbackCost(roundTrips = 300): Promise<LoopbackCost> {
  const server = createServer((_, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new Client(`http://127.0.0.1:${port}`);
  const get = async () => {
    const response = await client.request({ path: '/', method: 'GET' });
    await response.body.dump();
  };
  try {
    // The first few pay for the connection and the JIT.
    for (let i = 0; i < 20; i++) await get();
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < roundTrips; i++) await get();
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      roundTrips,
      wallUsPerRoundTrip: Math.round((wallMs * 1000) / roundTrips),
      cpuUsPerRoundTrip: Math.round((used.user + used.system) / roundTrips),
    };
  } finally {
    await client.close();
    server.close();
  }
}
