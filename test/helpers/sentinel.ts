import { createSocket, type Socket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP server and a UDP socket on the same port of 127.0.0.1 in the test's own network
 * namespace, that count what reaches them: a connection, or a datagram. Each connection's first
 * bytes are kept (for a while, or up to 4 KB) so the tag of the attempt that made it (an HTTP path,
 * a TLS server name, a line) can be read back.
 */
export interface Sentinel {
  readonly port: number;
  readonly connections: number;
  readonly datagrams: number;
  /** The tags (`hole-<name>`) seen in connections' first bytes and in datagrams, sorted, without repeats. */
  tags(): string[];
  reset(): void;
  close(): Promise<void>;
}

const FIRST_BYTES_MS = 300;
const FIRST_BYTES_MAX = 4096;
const TAG = /hole-[a-z0-9-]*[a-z0-9]/g;

export async function startSentinel(): Promise<Sentinel> {
  // The UDP socket must get the TCP server's port number: a few tries in case it is taken.
  for (let attempt = 0; attempt < 10; attempt++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const udp = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return sentinelOn(server, udp, port);
    udp.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

function sentinelOn(server: Server, udp: Socket, port: number): Sentinel {
  let connections = 0;
  let datagrams = 0;
  let seen = new Set<string>();
  const record = (text: string) => {
    for (const tag of text.match(TAG) ?? []) seen.add(tag);
  };
  server.on('connection', (socket) => {
    connections++;
    let first = '';
    const close = () => {
      record(first);
      socket.destroy();
    };
    const timer = setTimeout(close, FIRST_BYTES_MS);
    socket.on('data', (chunk: Buffer) => {
      first += chunk.toString('latin1');
      if (first.length >= FIRST_BYTES_MAX) {
        clearTimeout(timer);
        close();
      }
    });
    socket.on('error', () => {});
    socket.on('end', () => {
      clearTimeout(timer);
      close();
    });
  });
  udp.on('message', (message) => {
    datagrams++;
    record(message.toString('latin1'));
  });
  return {
    port,
    get connections() {
      return connections;
    },
    get datagrams() {
      return datagrams;
    },
    tags: () => [...seen].sort(),
    reset() {
      connections = 0;
      datagrams = 0;
      seen = new Set();
    },
    async close() {
      udp.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
