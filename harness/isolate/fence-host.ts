/**
 * The first process of a cell's network namespace, started by `openFence` through `unshare`. It
 * makes the namespace a place where only the scenario exists: loopback up, a hosts file naming
 * the scenario's hosts, a name server that knows nothing else; and for the `net` backend it runs
 * the scenario's servers. It stays outside the cell's CPU quota. It ends when the sweep lets go
 * of it or dies.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { NetReplay } from '../mock/net-backend.ts';
import { DatabaseProxy, startRelay } from './database-bridge.ts';
import { RefusingNameServer } from './dns.ts';
import type { FenceSetup, FenceHostMessage, FenceTally } from './fence-protocol.ts';

function send(message: FenceHostMessage): void {
  process.send?.(message);
}

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

async function setUp(setup: FenceSetup): Promise<void> {
  run('ip', ['link', 'set', 'lo', 'up']);
  // The mount namespace is private (unshare's default propagation): these cover the files for
  // the processes of this namespace only.
  run('mount', ['--bind', setup.hostsFile, '/etc/hosts']);
  if (existsSync('/etc/resolv.conf')) run('mount', ['--bind', setup.resolvFile, '/etc/resolv.conf']);
  const names = await RefusingNameServer.start();
  const database = setup.database ? await DatabaseProxy.start(setup.database) : undefined;
  if (setup.runtimeApi) await startRelay(setup.runtimeApi.address, setup.runtimeApi.port, setup.runtimeApi.socketPath);
  const serve = setup.serve;
  if (!serve) return;
  const leaves = new Map(serve.leaves);
  const net = await NetReplay.start({
    scenario: serve.scenario,
    timeScale: serve.timeScale,
    addresses: new Map(serve.addresses),
    leaf: (host) => leaves.get(host)!,
  });
  // The cell asks for fresh hosts before each invocation and for what was served after it.
  const control = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://control');
    if (request.method === 'POST' && url.pathname === '/begin') {
      net.begin(Number(url.searchParams.get('timeScale')) || serve.timeScale).then(() => {
        names.takeNames();
        database?.takeRoundTrips();
        response.writeHead(204).end();
      });
    } else if (request.method === 'GET' && url.pathname === '/tally') {
      const tally: FenceTally = { ...net.tally(), lookups: names.takeNames(), ...(database ? { databaseRoundTrips: database.takeRoundTrips() } : {}) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tally));
    } else {
      response.writeHead(404).end();
    }
  });
  rmSync(serve.controlSocket, { force: true });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(serve.controlSocket, () => resolve());
  });
}

process.once('message', (setup: FenceSetup) => {
  setUp(setup).then(
    () => send({ type: 'ready' }),
    (error: unknown) => {
      send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
// The sweep let go of the fence, or died: nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
