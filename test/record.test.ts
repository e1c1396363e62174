import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile, sortSamples } from '../harness/analyze/statistics.ts';
import { loadResults } from '../harness/results/io.ts';
import { loadScenario } from '../harness/scenario/load.ts';
import { hasStackTrace, runScriptAsync } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

const BODY = JSON.stringify({ ok: true, pad: 'x'.repeat(1980) });

/** A loopback server that answers every request after a fixed delay with a 2,000-byte JSON body. */
function delayedServer(host: string, delayMs: number): Promise<Server> {
  const body = BODY;
  const server = createServer((_request, response) => {
    setTimeout(() => {
      response.setHeader('content-type', 'application/json');
      response.end(body);
    }, delayMs);
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

describe('npm run record', () => {
  let dir: string;
  let servers: Server[];
  let job: string;

  beforeAll(async () => {
    dir = scratchDir('record');
    // Two hosts on loopback (all of 127.0.0.0/8 is loopback on Linux), one fetched with fetch, one with node:http.
    servers = await Promise.all([delayedServer('127.0.0.1', 100), delayedServer('127.0.0.2', 200)]);
    const [fast, slow] = servers.map((s) => (s.address() as AddressInfo).port);
    job = join(dir, 'job.mjs');
    writeFileSync(
      job,
      `import http from 'node:http';
for (let i = 0; i < 10; i++) {
  JSON.parse(await (await fetch('http://127.0.0.1:${fast}/page/' + i)).text());
  JSON.parse(await new Promise((resolve, reject) => http.get('http://127.0.0.2:${slow}/api/' + i, (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => resolve(d)); }).on('error', reject)));
}
`,
    );
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('writes a scenario of the real run whose replay at concurrency 1 lands within 10% of it', async () => {
    const out = join(dir, 'job.json');
    const recorded = await runScriptAsync('record', [out, '--har', join(dir, 'job.har'), '--', process.execPath, job]);
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toMatch(/^Wrote .*job\.json: scenario "job", 20 requests to 2 hosts, parse json$/m);
    const scenario = loadScenario(out);
    expect(scenario.requests).toHaveLength(20);
    const fast = scenario.hosts['127.0.0.1']!;
    const slow = scenario.hosts['127.0.0.2']!;
    // Each latency is the server's delay plus what the client and loopback added (connection
    // set-up included; the first fetch also loads Node's fetch implementation).
    for (const [host, delay] of [
      [fast, 100],
      [slow, 200],
    ] as const) {
      expect(host.latencyMs.dist).toBe('empirical');
      const samples = (host.latencyMs as { samples: number[] }).samples;
      expect(samples).toHaveLength(10);
      for (const ms of samples) expect(ms).toBeGreaterThanOrEqual(delay - 1);
      expect(percentile(sortSamples(samples), 0.5)).toBeLessThan(delay + 25);
      expect(Buffer.byteLength(BODY)).toBe(2000);
      expect(host.bodyBytes).toEqual({ dist: 'empirical', samples: new Array(10).fill(2000) });
      expect(host.errorRate).toBe(0);
    }
    expect(existsSync(join(dir, 'job.har'))).toBe(true);
    const spanMs = Number(/\((\d+) ms\) of the job's/.exec(scenario.description ?? '')?.[1]);
    expect(spanMs).toBeGreaterThan(10 * (100 + 200));

    const replayFile = join(dir, 'replay.json');
    const replay = await runScriptAsync('sweep', [out, '--concurrency', '1', '--memory', '1769', '--reps', '3', '--no-report', '--out', replayFile]);
    expect(replay.code).toBe(0);
    const cell = loadResults(replayFile).cells[0]!;
    if (cell.state !== 'completed') throw new Error(`the replay did not complete: ${cell.state}`);
    expect(Math.abs(cell.durationMs.median / spanMs - 1)).toBeLessThan(0.1);
  }, 120_000);

  it('records a request the job aborts as failed when it aborts', async () => {
    const slowPort = (servers[1]!.address() as AddressInfo).port;
    const aborting = join(dir, 'aborting.mjs');
    writeFileSync(
      aborting,
      `await fetch('http://127.0.0.2:${slowPort}/gives-up', { signal: AbortSignal.timeout(50) }).catch(() => {});
await (await fetch('http://127.0.0.2:${slowPort}/waits')).text();
await new Promise((resolve) => setTimeout(resolve, 500));
`,
    );
    const out = join(dir, 'aborting.json');
    const har = join(dir, 'aborting.har');
    const recorded = await runScriptAsync('record', [out, '--har', har, '--', process.execPath, aborting]);
    expect(recorded.code).toBe(0);
    expect(loadScenario(out).hosts['127.0.0.2']).toMatchObject({ resetRate: 0.5 });
    const entries = (
      JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: Array<{ request: { url: string }; response: { status: number }; time: number }> } }
    ).log.entries;
    const gaveUp = entries.find((entry) => entry.request.url.endsWith('/gives-up'))!;
    expect(gaveUp.response.status).toBe(0);
    // Failed at its 50 ms timeout, not at the process's exit half a second after the other request.
    expect(gaveUp.time).toBeGreaterThanOrEqual(45);
    expect(gaveUp.time).toBeLessThan(190);
  }, 60_000);

  it('stops the job and leaves no temporary directory when it is stopped itself', async () => {
    const pidFile = join(dir, 'job.pid');
    const lingering = join(dir, 'lingering.mjs');
    writeFileSync(
      lingering,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetTimeout(() => {}, 60_000);\n`,
    );
    const before = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('fanout-tuner-record-')));
    const recorder = spawn(process.execPath, ['--import', 'tsx', 'scripts/record.ts', join(dir, 'lingering.json'), '--', process.execPath, lingering], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const jobPid = Number(readFileSync(pidFile, 'utf8'));
    const ended = new Promise<NodeJS.Signals | null>((resolve) => recorder.on('exit', (_code, signal) => resolve(signal)));
    recorder.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
    const jobGone = async () => {
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(jobPid, 0);
        } catch {
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    expect(await jobGone()).toBe(true);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('fanout-tuner-record-') && !before.has(name))).toEqual([]);
    expect(existsSync(join(dir, 'lingering.json'))).toBe(false);
  }, 60_000);

  it('writes nothing when the job fails, and gives exit 2 for a command not found or an OUT that exists', async () => {
    const failing = join(dir, 'fail.mjs');
    writeFileSync(failing, 'process.exit(3);\n');
    const failed = await runScriptAsync('record', [join(dir, 'failed.json'), '--', process.execPath, failing]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/the job exited with code 3; no scenario written/);
    expect(existsSync(join(dir, 'failed.json'))).toBe(false);

    const quiet = join(dir, 'quiet.mjs');
    writeFileSync(quiet, 'console.log("no requests");\n');
    const none = await runScriptAsync('record', [join(dir, 'quiet.json'), '--', process.execPath, quiet]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/made no request the recorder saw/);

    const missing = await runScriptAsync('record', [join(dir, 'x.json'), '--', 'no-such-command-fanout']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: command: "no-such-command-fanout" was not found\. Fix: give the command that runs the job after --/m);
    expect(hasStackTrace(missing.stderr)).toBe(false);

    const existing = join(dir, 'existing.json');
    writeFileSync(existing, '{}');
    const refused = await runScriptAsync('record', [existing, '--', process.execPath, quiet]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`error: ${existing}: OUT: already exists. Fix: pass --force to overwrite it, or choose another OUT\n`);
    expect(readFileSync(existing, 'utf8')).toBe('{}');
  }, 60_000);
});
