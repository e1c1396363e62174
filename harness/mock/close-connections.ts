import type { Socket } from 'node:net';

/**
 * How long a server waits for its clients to close their side of the connections it ends: a
 * Node client (undici, global fetch, node:http) closes on the server's FIN at once; a client that
 * only notices on its next write is cut off after this.
 */
export const CLOSE_WAIT_MS = 500;

/**
 * Ends every connection and resolves once each is closed on both sides, as they would be after
 * the server's idle timeout in the minutes between two invocations. Destroying them instead and
 * starting the next invocation at once let the client learn of the closures during that
 * invocation: undici's Agent, which closes an origin's pool when its count of connections falls
 * to 0 and counts by origin rather than by pool, then closed the fresh pools too as the old
 * connections' disconnects came in, and a job opened up to one connection per request.
 */
export async function closeConnections(sockets: Iterable<Socket>, waitMs = CLOSE_WAIT_MS): Promise<void> {
  const open = [...sockets].filter((socket) => !socket.destroyed);
  if (!open.length) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = Promise.all(
    open.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.end();
        }),
    ),
  );
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  for (const socket of open) socket.destroy();
}
