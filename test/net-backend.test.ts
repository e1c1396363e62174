import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namespaces, runFenced, skipNote } from './helpers/namespace.ts';
import { isCompleted, type Results } from '../harness/results/schema.ts';
import { runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';
import { writeScenario } from './helpers/scenario-files.ts';
import { fileDescriptorQuotaApplies } from '../harness/run/lambda-quotas.ts';
import { LAMBDA_FILE_DESCRIPTORS } from '../harness/model/lambda.ts';

/**
 * Every bundled scenario sweeps on the `net` backend, over real loopback sockets in each cell's
 * namespace, and keeps its shape: the same requests served, the same errors, durations near the
 * ideal makespan. Two cells each, one repetition: enough to see the shape, quick enough for CI.
 */

function sweepNet(scenario: string, args: string[]): Results {
  const out = join(scratchDir('net'), 'results.json');
  const run = runScript('sweep', [scenario, '--backend', 'net', '--reps', '1', '--memory', '1769', '--no-report', '--out', out, ...args], {
    timeoutMs: 180_000,
  });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Results;
}

/**
 * Fidelity bounds are loose: these jobs take well under a second, where a busy 2-core machine
 * moves them by tens of percent. The rate-limited API answers with a whole-second Retry-After,
 * so a request that arrives a little later than the ideal's instant can find a token and skip a
 * second's wait: there the replay may beat the ideal.
 */
skipNote('the net backend sweeps');

const BUNDLED: Array<{ file: string; concurrency: string; fidelity: [number, number] }> = [
  { file: 'scenarios/small-fast.json', concurrency: '1,8', fidelity: [0.95, 2] },
  { file: 'scenarios/rate-limited.json', concurrency: '2,16', fidelity: [0.6, 2] },
  { file: 'scenarios/handler-fetch.json', concurrency: '1,4', fidelity: [0.95, 2] },
  { file: 'scenarios/handler-axios.json', concurrency: '1,4', fidelity: [0.95, 2] },
  { file: 'scenarios/handler-undici.json', concurrency: '1,4', fidelity: [0.95, 2] },
];

describe.runIf(runFenced)('the net backend', () => {
  it('is available wherever CI requires it', () => {
    expect(namespaces).toEqual({ available: true });
  });

  it('sweeps the seed case in its shape: about 23 s serially and about 8 s at 60 workers, at a whole core', () => {
    // Time scale 2 rather than the seed's 16: the client's handshake CPU does not shrink with the
    // latencies, and at 16 it would weigh eight times as much against them.
    const results = sweepNet('scenarios/seed-case-study.json', ['--concurrency', '1,60', '--time-scale', '2']);
    expect(results.method.backend).toBe('net');
    expect(results.method.isolation).toBe('namespace');
    expect(results.method.loopback?.roundTrips).toBeGreaterThan(0);
    const [serial, wide] = results.cells;
    if (!isCompleted(serial!) || !isCompleted(wide!)) throw new Error(`cells failed: ${JSON.stringify(results.cells.map((c) => c.state))}`);
    expect(serial.durationMs.median / 1000).toBeGreaterThan(22);
    expect(serial.durationMs.median / 1000).toBeLessThan(26);
    expect(wide.durationMs.median / 1000).toBeGreaterThan(7);
    expect(wide.durationMs.median / 1000).toBeLessThan(9.5);
    // Real connections: one per host serially (5 hosts), many more at 60 workers.
    expect(serial.reps[0]!.connectionsOpened).toBe(5);
    expect(wide.reps[0]!.connectionsOpened).toBeGreaterThan(20);
    // What the simulator models the replay with: the servers' timers, measured in each repetition,
    // and the split of the client's connection CPU, measured at the start.
    expect(typeof serial.reps[0]!.latencyTimerLateMs).toBe('number');
    expect(results.method.connectOpenCpuMs).toBeGreaterThan(0);
    expect(results.method.connectOpenCpuMs).toBeLessThanOrEqual(results.method.connectCpuMs!);
    // The seed's hosts are https: the hello is measured, and the servers' CPU per connection.
    expect(results.method.connectHelloCpuMs).toBeGreaterThan(0);
    expect(results.method.serverConnectCpuMs).toBeGreaterThan(0);
    // Its servers run beside each cell: one cell at a time on this 2-core machine.
    expect(results.method.parallelCells ?? 1).toBe(Math.max(1, Math.min(results.cells.length, Math.floor(availableParallelism() / 2))));
  }, 200_000);

  it.each(BUNDLED)(
    'sweeps $file over real sockets, every request served',
    ({ file, concurrency, fidelity }) => {
      // Two cells at once, as before net sweeps took a core pair per cell: only their shape is checked here.
      const results = sweepNet(file, ['--concurrency', concurrency, '--parallel', '2']);
      expect(results.method.backend).toBe('net');
      for (const cell of results.cells) {
        if (!isCompleted(cell)) throw new Error(`${file} c=${cell.concurrency}: ${cell.state} ${'error' in cell ? cell.error : ''}`);
        const rep = cell.reps[0]!;
        expect(rep.requests).toBe(results.scenario.requests.reduce((n, group) => n + ('count' in group ? group.count : 1), 0));
        expect(rep.errors).toBe(0);
        expect(rep.connectionsOpened).toBeGreaterThan(0);
        expect(cell.fidelityRatio).toBeGreaterThan(fidelity[0]);
        expect(cell.fidelityRatio).toBeLessThan(fidelity[1]);
      }
    },
    200_000,
  );

  it.runIf(fileDescriptorQuotaApplies() || process.env.CI)(
    "counts the connections a job past Lambda's 1,024 file descriptors could not open, and says why",
    () => {
      // 1,200 workers each hold a connection for 300 ms: about 1,000 open, the rest fail with EMFILE.
      const { file } = writeScenario({
        name: 'past-the-descriptors',
        seed: 3,
        requests: [{ host: 'api.example', count: 1200 }],
        hosts: { 'api.example': { latencyMs: { dist: 'fixed', value: 300 }, bodyBytes: { dist: 'fixed', value: 200 } } },
        work: { parse: 'none' },
        client: { timeoutMs: 10_000, retries: 0, library: 'undici' },
      });
      const results = sweepNet(file, ['--concurrency', '1200']);
      const cell = results.cells[0]!;
      if (!isCompleted(cell)) throw new Error(`${cell.state}: ${'error' in cell ? cell.error : ''}`);
      const rep = cell.reps[0]!;
      expect(rep.descriptorFailures).toBeGreaterThan(1200 - LAMBDA_FILE_DESCRIPTORS);
      expect(rep.descriptorFailures).toBeLessThan(400);
      expect(rep.errorsByKind.reset).toBe(rep.descriptorFailures);
      expect(rep.errors).toBe(rep.descriptorFailures);
      expect(results.warnings.find((warning) => warning.startsWith('File descriptors:'))).toContain(
        `concurrency 1200, 1769 MB, x86_64: ${rep.descriptorFailures} attempt(s)`,
      );
    },
    60_000,
  );
});
