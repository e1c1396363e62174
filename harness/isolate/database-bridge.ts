import { connect, createServer, type Server, type Socket } from 'node:net';
import { sample } from '../scenario/distributions.ts';
import { STREAM, uniformAt } from '../scenario/random.ts';
import { LIMITS, type Distribution, type Scenario } from '../scenario/schema.ts';
import { resolveConnectionString } from '../workload/database.ts';

/**
 * The scenario's database for a deployed function: a real PostgreSQL, reached from inside the
 * cell's network namespace at the address the function's own configuration names (say
 * db.example:5432), with the scenario's sink latency added to every round trip, as an RDS
 * instance a few milliseconds away would add it.
 *
 * Two halves, since nothing inside the namespace can reach the machine's own loopback: the
 * namespace side (in the fence host) accepts the function's connections and delays what the
 * client sends; the machine side (in the sweep) forwards each one to the real server. Between
 * them, a Unix socket in the fence's directory, which both can see.
 */

/**
 * How a cell reaches the scenario's real PostgreSQL from inside its namespace: where its client
 * connects (a deployed function's `endpoint`, else the host and port of the connection string
 * the cell itself uses), the real server, and the latency added per round trip.
 */
export interface DatabaseRoute {
  inside: { host: string; port: number };
  target: { host: string; port: number };
  roundTripMs?: Distribution;
  seed: number;
  timeScale: number;
}

export function databaseRoute(scenario: Scenario, env: NodeJS.ProcessEnv, timeScale: number): DatabaseRoute | undefined {
  const sink = scenario.sink;
  if (sink.kind !== 'postgres') return undefined;
  const connectionString = resolveConnectionString(sink.url, env);
  if (!connectionString) return undefined;
  const url = new URL(connectionString);
  const target = { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
  let inside = target;
  if (sink.endpoint) {
    const split = sink.endpoint.lastIndexOf(':');
    inside = { host: sink.endpoint.slice(0, split), port: Number(sink.endpoint.slice(split + 1)) };
  }
  return { inside, target, ...(sink.roundTripMs ? { roundTripMs: sink.roundTripMs } : {}), seed: scenario.seed, timeScale };
}

/** Resolves once `server` listens on a Unix socket path or on port + address; rejects if it cannot. */
function listening(server: Server, at: string | { port: number; address: string }): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve(server);
    };
    if (typeof at === 'string') server.listen(at, ready);
    else server.listen(at.port, at.address, ready);
  });
}

/** The machine side: forwards each connection on `socketPath` to the real server. */
export function startDatabaseForwarder(socketPath: string, target: { host: string; port: number }): Promise<Server> {
  return listening(
    createServer((inside) => pipeBoth(inside, connect(target.port, target.host))),
    socketPath,
  );
}

export interface DatabaseProxyOptions {
  /** Where the function connects, inside the namespace. */
  address: string;
  port: number;
  /** The machine side's socket. */
  socketPath: string;
  /** Latency added to each message the client sends (a query, a commit): one per round trip. */
  latencyMs: Distribution;
  seed: number;
  timeScale: number;
}

/** The namespace side. Counts the round trips it delayed, for the tally. */
export class DatabaseProxy {
  private roundTrips = 0;

  private constructor(private readonly server: Server) {}

  static start(options: DatabaseProxyOptions): Promise<DatabaseProxy> {
    let proxy: DatabaseProxy | undefined;
    const server = createServer((client) => {
      const database = connect(options.socketPath);
      // Each chunk the client sends waits its drawn latency; later ones wait behind it, in order,
      // as bytes on one connection arrive in order.
      let ready = Promise.resolve();
      client.on('data', (chunk: Buffer) => {
        const n = proxy!.roundTrips++;
        // Capped as every drawn time is (harness/scenario/plan.ts): a tail draw past 2^31 ms would fire at once.
        const delayMs =
          Math.min(LIMITS.timeMs, sample(options.latencyMs, uniformAt(options.seed, n, 0, STREAM.sink, 0), uniformAt(options.seed, n, 0, STREAM.sink, 1))) /
          options.timeScale;
        const sentAt = performance.now();
        ready = ready.then(
          () =>
            new Promise<void>((resolve) => {
              const wait = sentAt + delayMs - performance.now();
              setTimeout(
                () => {
                  if (!database.destroyed) database.write(chunk);
                  resolve();
                },
                Math.max(0, wait),
              );
            }),
        );
      });
      client.on('end', () => void ready.then(() => database.end()));
      database.pipe(client);
      const fail = () => {
        client.destroy();
        database.destroy();
      };
      client.on('error', fail);
      database.on('error', fail);
      client.on('close', fail);
      database.on('close', () => client.end());
    });
    proxy = new DatabaseProxy(server);
    return listening(server, options).then(() => proxy!);
  }

  /** Round trips since the last call. */
  takeRoundTrips(): number {
    const n = this.roundTrips;
    this.roundTrips = 0;
    return n;
  }

  close(): void {
    this.server.close();
  }
}

/**
 * Inside the namespace: each connection to address:port is passed to a Unix socket served in the
 * sweep's process (the Lambda Runtime API, which lives with the sweep and its cgroups).
 */
export function startRelay(address: string, port: number, socketPath: string): Promise<Server> {
  return listening(
    createServer((inside) => pipeBoth(inside, connect(socketPath))),
    { port, address },
  );
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const fail = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
}
