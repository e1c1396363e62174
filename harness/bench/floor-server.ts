/**
 * The floor of the `net` benchmark: a bare node:http server that answers every request after a
 * fixed delay (setTimeout, then end the body) and does nothing else. It runs in a fence of its
 * own, started with `fence.fork`, so it listens in a network namespace like the `net` backend's
 * servers do, on the loopback address the fence's hosts file gives the bench host. The job
 * reaches it exactly as it reaches the replay servers: same host name, same lookup through the
 * hosts file, same namespace loopback, same kept-alive HTTP/1.1 connections. What differs is only
 * the server's code, which is the cost the benchmark is after.
 *
 * To be measured as the replay servers are, it speaks the same control protocol on a Unix socket
 * (`POST /begin?timeScale=N` closes the connections of the last invocation as the replay
 * servers do, then starts counting CPU; `GET /tally`), and the delay runs `timeScale` times shorter for the warm-up.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { closeConnections } from '../mock/close-connections.ts';
import { LISTEN_BACKLOG } from '../mock/listen-backlog.ts';
import type { FloorStart, FloorTally } from './net-spec.ts';

function start(setup: FloorStart): Promise<void> {
  const body = Buffer.alloc(setup.bodyBytes, 'x');
  let delayMs = setup.latencyMs;
  let served = 0;
  let connections = 0;
  let cpuAtBegin = process.cpuUsage();
  const sockets = new Set<Socket>();

  const server = createServer((_request, response) => {
    setTimeout(() => {
      served++;
      response.end(body);
    }, delayMs);
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const control = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://control');
    if (request.method === 'POST' && url.pathname === '/begin') {
      void closeConnections(sockets).then(() => {
        delayMs = setup.latencyMs / (Number(url.searchParams.get('timeScale')) || 1);
        served = 0;
        connections = 0;
        cpuAtBegin = process.cpuUsage();
        response.writeHead(204).end();
      });
    } else if (request.method === 'GET' && url.pathname === '/tally') {
      const cpu = process.cpuUsage(cpuAtBegin);
      const tally: FloorTally = { serverCpuMs: (cpu.user + cpu.system) / 1000, connectionsOpened: connections, served };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tally));
    } else {
      response.writeHead(404).end();
    }
  });

  rmSync(setup.controlSocket, { force: true });
  const listen = (target: () => void, on: ReturnType<typeof createServer>) =>
    new Promise<void>((resolve, reject) => {
      on.once('error', reject);
      on.once('listening', () => {
        on.off('error', reject);
        resolve();
      });
      target();
    });
  return Promise.all([
    listen(() => server.listen({ port: setup.port, host: setup.address, backlog: LISTEN_BACKLOG }), server),
    listen(() => control.listen(setup.controlSocket), control),
  ]).then(() => undefined);
}

process.once('message', (setup: FloorStart) => {
  start(setup).then(
    () => process.send!({ type: 'ready' }),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
// The bench let go of it, or died.
process.on('disconnect', () => process.exit(0));
