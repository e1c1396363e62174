import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeJsonAtomic } from '../harness/results/io.ts';
import { checkWritable } from '../harness/sweep/sweep.ts';
import { scratchDir } from './helpers/scratch.ts';
import { measureOverhead } from '../harness/bench/overhead.ts';
import { BENCH_HOST, idealOverheadMs } from '../harness/bench/overhead-spec.ts';
import { netSpec, overheadSpec } from '../harness/bench/run.ts';
import { measureNet } from '../harness/bench/net-overhead.ts';
import { namespaceSupport } from '../harness/isolate/fence.ts';
import { createCertificates } from '../harness/isolate/tls.ts';
import { benchTargets, clientOverheadUs, formatBench, overheadRow, timeScaleRows, type BenchResults, type OverheadRow } from '../harness/bench/summary.ts';
import type { Validation } from '../harness/bench/validation.ts';
import { formatNet, netComparisons, netRow, netTargets, type NetRow } from '../harness/bench/net-summary.ts';

function row(harness: OverheadRow['harness'], concurrency: number, ratio: number, extra: Partial<OverheadRow> = {}): OverheadRow {
  return {
    harness,
    concurrency,
    round: 1,
    requests: 2000,
    latencyMs: 50,
    bodyBytes: 10240,
    idealMs: idealOverheadMs({ concurrency, requests: 2000, latencyMs: 50 }),
    ratio,
    ratios: [ratio],
    cpuUsPerRequest: 30,
    mockCpuUsPerRequest: harness === 'naive' ? null : 5,
    peakRssMb: 120,
    lambdaMemoryMb: null,
    heapLimitMb: 4144,
    errors: 0,
    ...extra,
  };
}

function netRowOf(server: NetRow['server'], client: NetRow['client'], concurrency: number, ratio: number, serverCpuUsPerRequest: number): NetRow {
  return {
    server,
    client,
    concurrency,
    requests: 2000,
    idealMs: idealOverheadMs({ concurrency, requests: 2000, latencyMs: 50 }),
    ratio,
    ratios: [ratio],
    jobCpuUsPerRequest: 100,
    serverCpuUsPerRequest,
    connections: 2 * concurrency,
    peakRssMb: server === 'net' ? 130 : 125,
    errors: 0,
  };
}

const cell = (concurrency: number, medianMs: number, extra: Partial<Validation['cells'][number]> = {}): Validation['cells'][number] => ({
  concurrency,
  memoryMb: 1769,
  medianMs,
  simulatedMs: medianMs,
  modelError: 0,
  fidelityRatio: 1,
  checked: true,
  withinTolerance: true,
  timeScaleCorrectionMs: undefined,
  ...extra,
});

const real: Validation = { scenario: 'seed-case-study', timeScale: 1, reps: 2, sweepS: 50, cells: [cell(8, 8192), cell(60, 7500)] };
const scaled: Validation = {
  scenario: 'seed-case-study',
  timeScale: 4,
  reps: 2,
  sweepS: 14,
  cells: [cell(8, 10_240, { timeScaleCorrectionMs: 2048 }), cell(60, 7500, { modelError: -0.06, withinTolerance: false })],
};

const bench: Omit<BenchResults, 'targets'> = {
  schemaVersion: 1,
  tool: { name: 'fanout-tuner', version: '0.1.0' },
  startedAt: 't0',
  finishedAt: 't1',
  env: { node: 'v20', platform: 'linux-x64', cpus: 2, loadAverage: [1, 1, 1] },
  overhead: [row('undici', 100, 1.04), row('undici', 1000, 1.6, { peakRssMb: 140, mockCpuUsPerRequest: 31 }), row('naive', 100, 1.5), row('naive', 1000, 17)],
  net: [netRowOf('net', 'undici', 100, 1.2, 90), netRowOf('floor', 'undici', 100, 1.1, 60)],
  netS: 95,
  validation: [real, scaled],
  timeScale: {
    scenario: 'seed-case-study',
    timeScale: 4,
    realSweepS: 50,
    scaledSweepS: 61.5,
    scaledCells: 54,
    parallelCells: 2,
    rows: timeScaleRows(real, scaled),
  },
  simulator: { scenario: 'seed-case-study', cells: 54, gridMs: 18 },
  clientOverheadUs: { undici: 25 },
};

describe('the benchmark summary', () => {
  it('takes the median of the timed invocations of one overhead measurement', () => {
    const measured = overheadRow({
      spec: { harness: 'undici', concurrency: 100, requests: 2000, latencyMs: 50, bodyBytes: 10240, reps: 3, lambdaMemoryMb: 128 },
      idealMs: 1000,
      peakRssMb: 130,
      heapLimitMb: 140,
      reps: [
        { durationMs: 1100, cpuMs: 60, mockCpuMs: 8, errors: 0 },
        { durationMs: 1030, cpuMs: 50, mockCpuMs: 6, errors: 0 },
        { durationMs: 1040, cpuMs: 56, mockCpuMs: 10, errors: 0 },
      ],
    });
    expect(measured).toMatchObject({
      ratio: 1.04,
      ratios: [1.1, 1.03, 1.04],
      cpuUsPerRequest: 28,
      mockCpuUsPerRequest: 4,
      peakRssMb: 130,
      lambdaMemoryMb: 128,
      heapLimitMb: 140,
    });
  });

  it('compares the corrected time-scaled durations with real time', () => {
    expect(bench.timeScale.rows).toEqual([
      { concurrency: 8, memoryMb: 1769, realMs: 8192, scaledRawMs: 12_288, scaledMs: 10_240, error: 0.25, rawError: 0.5 },
      { concurrency: 60, memoryMb: 1769, realMs: 7500, scaledRawMs: 7500, scaledMs: 7500, error: 0, rawError: 0 },
    ]);
  });

  it('checks each target of issue 6 against the figure measured', () => {
    expect(benchTargets(bench).map((t) => [t.name, t.measured, t.met])).toEqual([
      ['undici measured/ideal at c=100', '1.04x', true],
      ['undici measured/ideal at c=1000', '1.60x', false],
      ['undici mock-only CPU per request, c >= 100', '31.0 us', false],
      ['undici peak RSS at c=1000', '140 MB', true],
      ['undici closer to ideal than the naive harness at c=100', '12.5x (1.04x vs 1.50x)', true],
      ['undici closer to ideal than the naive harness at c=1000', '26.7x (1.60x vs 17.00x)', true],
      ['net/floor makespan, undici, c=100', '1.09x (1.20x vs 1.10x ideal)', true],
      ['net/floor server CPU per request, undici, c >= 100', 'worst 1.50x at c=100 (90 vs 60 us)', true],
      ['simulator: whole grid', '18.0 ms (54 cells)', true],
      ['simulator vs replay at faithful cells (every bundled scenario)', 'worst -6.0% (seed-case-study, c=60); 3/4 within', false],
      ['default sweep of seed-case-study (54 cells, x4)', '61.5 s', false],
      ['default sweep (x4) vs real time, seed-case-study', 'worst +25.0% at c=8, 1769 MB (uncorrected +50.0%); 1/2 within', false],
    ]);
  });

  it("judges the peak RSS at c=1000 with a 128 MB cell's heap, V8's default heap and the fetch client alone beside it", () => {
    const under = (harness: OverheadRow['harness'], peakRssMb: number) => row(harness, 1000, 3, { peakRssMb, lambdaMemoryMb: 128, heapLimitMb: 140 });
    const both = {
      ...bench,
      overhead: [
        row('undici', 1000, 1.3, { peakRssMb: 131 }),
        row('msw', 1000, 2.1, { peakRssMb: 281 }),
        row('fetch-client', 1000, 2.0, { peakRssMb: 275 }),
        under('undici', 116),
        under('msw', 151),
        under('fetch-client', 146),
      ],
    };
    const rss = (bench: Omit<BenchResults, 'targets'>) => benchTargets(bench).filter((t) => t.name.includes('peak RSS'));
    expect(rss(both)).toEqual([
      {
        name: 'undici peak RSS at c=1000, the heap of a 128 MB cell',
        target: '<= 150 MB',
        measured: "116 MB; with V8's default heap 131 MB",
        met: true,
      },
      {
        name: 'msw peak RSS at c=1000, the heap of a 128 MB cell',
        target: '<= 150 MB',
        measured: "151 MB (the fetch client alone: 146 MB); with V8's default heap 281 MB (the fetch client alone: 275 MB)",
        met: false,
      },
    ]);
    // 150 MB is met; the default heap's figure is beside it, not judged.
    expect(rss({ ...both, overhead: both.overhead.map((r) => (r.harness === 'msw' && r.lambdaMemoryMb ? { ...r, peakRssMb: 150 } : r)) })[1]!.met).toBe(true);
  });

  it("reads the msw backend's peak RSS beside that of the fetch client alone", () => {
    const withMsw = {
      ...bench,
      overhead: [row('msw', 1000, 2.1, { peakRssMb: 281 }), row('fetch-client', 1000, 2.0, { peakRssMb: 275 })],
    };
    expect(benchTargets(withMsw).find((t) => t.name === 'msw peak RSS at c=1000')).toEqual({
      name: 'msw peak RSS at c=1000',
      target: '<= 150 MB',
      measured: '281 MB (the fetch client alone: 275 MB)',
      met: false,
    });
  });

  it('judges a measurement taken in rounds on its median, the msw backend against the naive mock on the same job', () => {
    const inRounds = (harness: OverheadRow['harness'], ratios: number[], extra: (round: number) => Partial<OverheadRow> = () => ({})) =>
      ratios.map((ratio, i) => row(harness, 100, ratio, { round: i + 1, ...extra(i + 1) }));
    const rounded = {
      ...bench,
      overhead: [
        ...inRounds('msw', [1.05, 1.04, 1.1], (round) => ({ cpuUsPerRequest: 100 + round * 10, mockCpuUsPerRequest: 2 })),
        ...inRounds('naive-mock', [1.12, 1.12, 1.15]),
        ...inRounds('naive', [1.09, 1.1, 1.12]),
      ],
    };
    const msw = (bench: Omit<BenchResults, 'targets'>) => benchTargets(bench).filter((t) => t.name.startsWith('msw'));
    // Paired by round: 0.12/0.05 = 2.4, 0.12/0.04 = 3, 0.15/0.10 = 1.5; median 2.4. Against the
    // naive harness's own job: 1.8, 2.5, 1.2.
    expect(msw(rounded)).toEqual([
      { name: 'msw measured/ideal at c=100', target: '<= 1.25', measured: '1.05x, median of 3 rounds (1.05 1.04 1.10)', met: true },
      { name: 'msw mock-only CPU per request, c >= 100', target: '<= 30 us', measured: '2.0 us', met: true },
      {
        name: 'msw closer to ideal than the naive harness at c=100, the same job',
        target: '>= 2x',
        measured:
          '2.40x, median of 3 rounds (2.40x 3.00x 1.50x) (1.05x vs 1.12x); against the naive harness with its own job (no client timeout) 1.80x, median of 3 rounds (1.80x 2.50x 1.20x) (vs 1.10x)',
        met: true,
      },
    ]);
    // The median, not the best round, is judged: two rounds under 2x fail.
    const worse = { ...rounded, overhead: rounded.overhead.map((r) => (r.harness === 'msw' && r.round === 2 ? { ...r, ratio: 1.07 } : r)) };
    expect(msw(worse)[2]).toMatchObject({ measured: expect.stringMatching(/^1\.71x, median of 3 rounds \(2\.40x 1\.71x 1\.50x\)/), met: false });
    // Without the naive mock's rounds, the naive harness as a whole is the reference.
    const naiveOnly = { ...rounded, overhead: rounded.overhead.filter((r) => r.harness !== 'naive-mock') };
    expect(msw(naiveOnly)[2]).toEqual({
      name: 'msw closer to ideal than the naive harness at c=100',
      target: '>= 2x',
      measured: '1.80x, median of 3 rounds (1.80x 2.50x 1.20x) (1.05x vs 1.10x)',
      met: false,
    });
    // The client's own CPU per request, the mock's taken out: the median of the rounds.
    expect(clientOverheadUs(rounded.overhead)).toEqual({ msw: 118 });
  });

  it('writes a file the next bench may replace, and refuses to replace one it did not write', () => {
    const dir = scratchDir('bench-out');
    const ours = join(dir, 'bench.json');
    writeJsonAtomic(ours, { ...bench, targets: benchTargets(bench) });
    expect(() => checkWritable(ours)).not.toThrow();
    const theirs = join(dir, 'figures.json');
    writeFileSync(theirs, JSON.stringify({ ...bench, tool: undefined }));
    expect(() => checkWritable(theirs)).toThrow('exists and is not a fanout-tuner results file');
  });

  it('prints a table per part and the targets', () => {
    const text = formatBench({ ...bench, targets: benchTargets(bench) });
    expect(text).toContain('undici   100   1      2000  1000      1.04x           30          5.0          120');
    expect(text).toContain("Client CPU per request without the mock's, c=100: undici 25 us");
    expect(text).toMatch(/undici measured\/ideal at c=1000 +<= 1\.5 +1\.60x +NOT MET/);
    expect(text).toContain(
      'the default sweep (54 cells at x4, 2 at a time, report included) took 61.5 s; the real-time sweep of the cells below, one at a time, 50 s',
    );
  });
});

describe('the net rows against the floor', () => {
  it('takes the medians of one measurement, the server CPU per request from serverCpuMs / requests', () => {
    const measured = netRow({
      spec: { server: 'net', client: 'fetch', concurrency: 1000, requests: 2000, latencyMs: 50, bodyBytes: 10240, reps: 3 },
      idealMs: 100,
      peakRssMb: 180,
      reps: [
        { durationMs: 300, cpuMs: 800, serverCpuMs: 200, connectionsOpened: 1000, served: 2000, errors: 0 },
        { durationMs: 250, cpuMs: 700, serverCpuMs: 180, connectionsOpened: 1200, served: 2000, errors: 0 },
        { durationMs: 400, cpuMs: 900, serverCpuMs: 260, connectionsOpened: 1100, served: 2000, errors: 1 },
      ],
    });
    expect(measured).toEqual({
      server: 'net',
      client: 'fetch',
      concurrency: 1000,
      requests: 2000,
      idealMs: 100,
      ratio: 3,
      ratios: [3, 2.5, 4],
      jobCpuUsPerRequest: 400,
      serverCpuUsPerRequest: 100,
      connections: 1100,
      peakRssMb: 180,
      errors: 1,
    });
  });

  it('pairs each net row with the floor at the same client and concurrency', () => {
    const rows = [netRowOf('net', 'fetch', 1000, 5, 120), netRowOf('floor', 'fetch', 1000, 4, 80), netRowOf('net', 'undici', 1000, 3, 70)];
    expect(netComparisons(rows)).toEqual([
      {
        client: 'fetch',
        concurrency: 1000,
        netRatio: 5,
        floorRatio: 4,
        makespanRatio: 1.25,
        netServerUs: 120,
        floorServerUs: 80,
        serverCpuRatio: 1.5,
        netPeakRssMb: 130,
      },
    ]);
  });

  const verdicts = (rows: NetRow[]) => netTargets(rows).map((t) => [t.name, t.met]);

  it('holds net within 1.10x of the floor at c=100: 1.09 is met, 1.11 is not', () => {
    expect(verdicts([netRowOf('net', 'undici', 100, 1.09, 50), netRowOf('floor', 'undici', 100, 1, 50)])).toEqual([
      ['net/floor makespan, undici, c=100', true],
      ['net/floor server CPU per request, undici, c >= 100', true],
    ]);
    expect(verdicts([netRowOf('net', 'undici', 100, 1.11, 50), netRowOf('floor', 'undici', 100, 1, 50)])[0]).toEqual([
      'net/floor makespan, undici, c=100',
      false,
    ]);
    // Exactly at the limit is within it.
    expect(verdicts([netRowOf('net', 'fetch', 100, 1.1, 50), netRowOf('floor', 'fetch', 100, 1, 50)])[0]).toEqual(['net/floor makespan, fetch, c=100', true]);
  });

  it('holds net within 1.25x of the floor at c=1000: 1.24 is met, 1.26 is not', () => {
    const at = (netRatio: number) => verdicts([netRowOf('net', 'fetch', 1000, netRatio, 50), netRowOf('floor', 'fetch', 1000, 2, 50)])[0];
    expect(at(2.48)).toEqual(['net/floor makespan, fetch, c=1000', true]);
    expect(at(2.52)).toEqual(['net/floor makespan, fetch, c=1000', false]);
  });

  it('holds the replay server within 1.5x of the bare server per request, worst of c >= 100, ignoring c < 100', () => {
    const rows = [
      netRowOf('net', 'undici', 10, 1.5, 500),
      netRowOf('floor', 'undici', 10, 1.5, 100),
      netRowOf('net', 'undici', 100, 1.0, 140),
      netRowOf('floor', 'undici', 100, 1.0, 100),
      netRowOf('net', 'undici', 1000, 1.0, 145),
      netRowOf('floor', 'undici', 1000, 1.0, 100),
    ];
    const cpu = netTargets(rows).find((t) => t.name.startsWith('net/floor server CPU'))!;
    expect([cpu.measured, cpu.met]).toEqual(['worst 1.45x at c=1000 (145 vs 100 us)', true]);
    rows[4] = netRowOf('net', 'undici', 1000, 1.0, 151);
    const over = netTargets(rows).find((t) => t.name.startsWith('net/floor server CPU'))!;
    expect([over.measured, over.met]).toEqual(['worst 1.51x at c=1000 (151 vs 100 us)', false]);
  });

  it('names no target for a pair measured on one server only', () => {
    expect(netTargets([netRowOf('net', 'undici', 100, 1.2, 90)])).toEqual([]);
  });

  it('prints per client and concurrency net and floor against ideal, their ratio, server CPU and peak RSS', () => {
    const text = formatNet([netRowOf('net', 'undici', 100, 1.2, 90), netRowOf('floor', 'undici', 100, 1.1, 60)]);
    expect(text).toContain('undici  100  2000  1.20x      1.10x        1.09x      90                 60     1.50x      130');
    expect(text).toContain('floor   undici  100  1.10x (1.10)                      100         60             200          125          0');
  });
});

describe('an overhead measurement', () => {
  it("runs with the heap of a Lambda memory size when asked, V8's default otherwise", async () => {
    const spec = { ...overheadSpec('undici', 10), requests: 20, reps: 1 };
    const [lambda, unlimited] = await Promise.all([measureOverhead({ ...spec, lambdaMemoryMb: 128 }), measureOverhead(spec)]);
    // 116 MB of old space and a young generation of a few 6 MB semi-spaces; V8's default is GBs.
    expect(lambda.heapLimitMb).toBeGreaterThanOrEqual(128);
    expect(lambda.heapLimitMb).toBeLessThanOrEqual(164);
    expect(unlimited.heapLimitMb).toBeGreaterThan(2 * lambda.heapLimitMb);
  });

  it('runs in its own process and reports every timed invocation against the ideal makespan', async () => {
    const spec = { ...overheadSpec('undici', 100), requests: 300, reps: 2 };
    const measured = await measureOverhead(spec);
    expect(measured.idealMs).toBe(150);
    expect(measured.reps).toHaveLength(2);
    expect(measured.reps.map((rep) => rep.errors)).toEqual([0, 0]);
    for (const rep of measured.reps) {
      expect(rep.durationMs).toBeGreaterThanOrEqual(150);
      expect(rep.mockCpuMs).toBeGreaterThan(0);
      expect(rep.mockCpuMs!).toBeLessThan(rep.cpuMs);
    }
    expect(measured.peakRssMb).toBeGreaterThan(30);
  });
  it("answers the built-in job from the naive harness's mock", async () => {
    const measured = await measureOverhead({ ...overheadSpec('naive-mock', 100), requests: 300, reps: 1 });
    expect(measured.reps).toHaveLength(1);
    expect(measured.reps[0]).toMatchObject({ errors: 0, mockCpuMs: undefined });
    expect(measured.reps[0]!.durationMs).toBeGreaterThanOrEqual(measured.idealMs);
  });
});

describe('a net measurement', () => {
  it.skipIf(!namespaceSupport().available)('runs the job in a fence against the replay servers and reads their CPU', async () => {
    const certificates = createCertificates([BENCH_HOST]);
    try {
      const measured = await measureNet({ ...netSpec('net', 'undici', 100), requests: 300, reps: 1 }, certificates);
      expect(measured.idealMs).toBe(150);
      expect(measured.reps.map((rep) => [rep.errors, rep.served])).toEqual([[0, 300]]);
      expect(measured.reps[0]!.durationMs).toBeGreaterThanOrEqual(150);
      expect(measured.reps[0]!.serverCpuMs).toBeGreaterThan(0);
      expect(measured.reps[0]!.connectionsOpened).toBeLessThanOrEqual(200);
    } finally {
      certificates.remove();
    }
  });
});
