/**
 * The job process of one `net` benchmark measurement, started inside a fence as a cell is: the
 * built-in scraper with the client measured (undici.request or global fetch) against whichever
 * server the fence holds, the `net` backend's or the floor. Both speak the same control
 * protocol, so this process cannot tell them apart. One untimed warm-up at the same concurrency
 * with the delay 50 times shorter, then the timed invocations, each after the server closed the
 * connections of the last one (as the replay servers do between invocations).
 */
import { request } from 'node:http';
import { runScraper } from '../workload/scraper.ts';
import { ModelSink } from '../workload/sink.ts';
import { fetchGet, undiciGet } from '../workload/http-client.ts';
import { netScenario, netUrls, type NetJobStart, type NetMeasurement, type NetRep } from './net-spec.ts';
import { idealOverheadMs } from './overhead-spec.ts';

const WARMUP_SPEEDUP = 50;

/** As the overhead benchmark's warm-up: enough to warm the JIT, fewer at low concurrency. */
function warmupRequests(concurrency: number): number {
  return Math.min(2000, 300 * concurrency);
}

function control(socketPath: string, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = request({ socketPath, method, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        response.statusCode && response.statusCode < 300 ? resolve(body) : reject(new Error(`control ${path}: ${response.statusCode}`)),
      );
    });
    call.on('error', reject);
    call.end();
  });
}

interface Tally {
  serverCpuMs: number;
  connectionsOpened: number;
  served: number;
}

async function tally(socketPath: string): Promise<Tally> {
  // The fence host's FenceTally (served: ServedCounts) or the floor's FloorTally (served: number).
  const raw = JSON.parse(await control(socketPath, 'GET', '/tally')) as {
    serverCpuMs: number;
    connectionsOpened: number;
    served: number | { requests: number };
  };
  return { serverCpuMs: raw.serverCpuMs, connectionsOpened: raw.connectionsOpened, served: typeof raw.served === 'number' ? raw.served : raw.served.requests };
}

async function measure({ spec, controlSocket }: NetJobStart): Promise<NetMeasurement> {
  const get = spec.client === 'undici' ? undiciGet : fetchGet;
  const urls = netUrls(spec.requests);
  const warmUrls = Array.from({ length: warmupRequests(spec.concurrency) }, (_, i) => urls[i % urls.length]!);
  const warmup = netScenario(spec, warmUrls);
  await control(controlSocket, 'POST', `/begin?timeScale=${WARMUP_SPEEDUP}`);
  await runScraper(warmup, { concurrency: spec.concurrency, timeScale: WARMUP_SPEEDUP, sink: new ModelSink(warmup, WARMUP_SPEEDUP), get });

  const scenario = netScenario(spec, urls);
  const reps: NetRep[] = [];
  for (let i = 0; i < spec.reps; i++) {
    await control(controlSocket, 'POST', '/begin?timeScale=1');
    const before = process.cpuUsage();
    const outcome = await runScraper(scenario, { concurrency: spec.concurrency, timeScale: 1, sink: new ModelSink(scenario, 1), get });
    const cpu = process.cpuUsage(before);
    const server = await tally(controlSocket);
    reps.push({ durationMs: outcome.durationMs, cpuMs: (cpu.user + cpu.system) / 1000, ...server, errors: outcome.errors });
  }
  return { spec, idealMs: idealOverheadMs(spec), reps, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

// The bench is gone (even killed with SIGKILL): nobody will read the measurement.
process.on('disconnect', () => process.exit(1));

process.once('message', (start: NetJobStart) => {
  measure(start).then(
    (measurement) => process.send!(measurement, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
