import { median } from '../analyze/statistics.ts';
import { formatNet, netTargets, type NetRow } from './net-summary.ts';
import type { OverheadHarness, OverheadMeasurement } from './overhead-spec.ts';
import type { Validation } from './validation.ts';

/**
 * Pure: the benchmark's figures (results/bench.json), the issue's targets checked against them,
 * and the table printed at the end of `npm run bench`.
 */

export interface OverheadRow {
  harness: OverheadHarness;
  concurrency: number;
  /** Which of the bench's alternating rounds of this measurement it is, from 1 (see ROUNDS in run.ts). */
  round: number;
  requests: number;
  latencyMs: number;
  bodyBytes: number;
  idealMs: number;
  /** Median over the timed invocations of measured / ideal makespan. */
  ratio: number;
  ratios: number[];
  /** Median CPU time per request, every thread, us. */
  cpuUsPerRequest: number;
  /** Median of the mock's own CPU time per request, us; null where the harness does not measure it. */
  mockCpuUsPerRequest: number | null;
  peakRssMb: number;
  /** The Lambda memory size whose Node flags (its heap) the process ran with; null for V8's defaults. */
  lambdaMemoryMb: number | null;
  /** V8's heap limit in the process, MB. */
  heapLimitMb: number;
  errors: number;
}

export interface TimeScaleRow {
  concurrency: number;
  memoryMb: number;
  realMs: number;
  /** The time-scaled replay scaled back, before the simulator's correction. */
  scaledRawMs: number;
  /** After the correction: what the sweep reports. */
  scaledMs: number;
  /** scaledMs / realMs - 1. */
  error: number;
  rawError: number;
}

export interface BenchResults {
  schemaVersion: 1;
  /** Who wrote the file: the next bench replaces only a file of this tool's (as a sweep's --out). */
  tool: { name: 'fanout-tuner'; version: string };
  startedAt: string;
  finishedAt: string;
  env: { node: string; platform: string; cpus: number; loadAverage: number[] };
  overhead: OverheadRow[];
  /**
   * The same job over real sockets (plain HTTP, keep-alive): the `net` backend's servers and the
   * floor, a bare node:http server, each in a fence; netS is that part's wall time.
   */
  net: NetRow[];
  netS: number;
  validation: Validation[];
  /**
   * The scenario's default sweep (its whole grid, time-scaled, cells side by side) against a
   * real-time sweep of part of that grid, one cell at a time. scaledSweepS is the default sweep's
   * wall time from the command to its exit.
   */
  timeScale: {
    scenario: string;
    timeScale: number;
    realSweepS: number;
    scaledSweepS: number;
    scaledCells: number;
    parallelCells: number;
    rows: TimeScaleRow[];
  };
  simulator: { scenario: string; cells: number; gridMs: number };
  /** Client CPU per request once the mock's is taken out, at concurrency 100: the simulator's defaults. */
  clientOverheadUs: Partial<Record<OverheadHarness, number>>;
  targets: Target[];
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export function overheadRow(measurement: OverheadMeasurement, round = 1): OverheadRow {
  const { spec, idealMs, reps } = measurement;
  const mock = reps.map((rep) => rep.mockCpuMs);
  return {
    harness: spec.harness,
    concurrency: spec.concurrency,
    round,
    requests: spec.requests,
    latencyMs: spec.latencyMs,
    bodyBytes: spec.bodyBytes,
    idealMs,
    ratio: median(reps.map((rep) => rep.durationMs / idealMs)),
    ratios: reps.map((rep) => rep.durationMs / idealMs),
    cpuUsPerRequest: median(reps.map((rep) => (rep.cpuMs * 1000) / spec.requests)),
    mockCpuUsPerRequest: mock.every((x) => x !== undefined) ? median(mock.map((x) => (x! * 1000) / spec.requests)) : null,
    peakRssMb: measurement.peakRssMb,
    lambdaMemoryMb: spec.lambdaMemoryMb ?? null,
    heapLimitMb: measurement.heapLimitMb,
    errors: reps.reduce((n, rep) => n + rep.errors, 0),
  };
}

/**
 * Client CPU per request once the mock's own is taken out, at concurrency 100 with V8's default
 * heap (the median over rounds): what the simulator charges each client by default.
 */
export function clientOverheadUs(overhead: readonly OverheadRow[]): BenchResults['clientOverheadUs'] {
  const result: BenchResults['clientOverheadUs'] = {};
  for (const harness of ['undici', 'msw'] as const) {
    const measured = rounds(overhead, harness, 100).filter((row) => row.mockCpuUsPerRequest !== null);
    if (measured.length) result[harness] = median(measured.map((row) => row.cpuUsPerRequest - row.mockCpuUsPerRequest!));
  }
  return result;
}

/** Pairs the cells of a real-time and a time-scaled sweep of the same grid. */
export function timeScaleRows(real: Validation, scaled: Validation): TimeScaleRow[] {
  return real.cells.flatMap((cell) => {
    const other = scaled.cells.find((c) => c.concurrency === cell.concurrency && c.memoryMb === cell.memoryMb);
    if (!other) return [];
    const scaledRawMs = other.medianMs + (other.timeScaleCorrectionMs ?? 0);
    return [
      {
        concurrency: cell.concurrency,
        memoryMb: cell.memoryMb,
        realMs: cell.medianMs,
        scaledRawMs,
        scaledMs: other.medianMs,
        error: other.medianMs / cell.medianMs - 1,
        rawError: scaledRawMs / cell.medianMs - 1,
      },
    ];
  });
}

/**
 * The rounds of one measurement, in round order: `harness` at `concurrency` with V8's default
 * heap, or with the heap Lambda gives `lambdaMemoryMb`. Empty where it was not measured.
 */
function rounds(rows: readonly OverheadRow[], harness: OverheadHarness, concurrency: number, lambdaMemoryMb: number | null = null): OverheadRow[] {
  return rows
    .filter((row) => row.harness === harness && row.concurrency === concurrency && (row.lambdaMemoryMb ?? null) === lambdaMemoryMb)
    .sort((a, b) => a.round - b.round);
}

/** A figure judged over rounds: its median, with every round's figure after it where there were several. */
function overRounds(values: readonly number[], format: (value: number) => string, each: (value: number) => string = format): { value: number; text: string } {
  const value = median(values);
  return { value, text: values.length > 1 ? `${format(value)}, median of ${values.length} rounds (${values.map(each).join(' ')})` : format(value) };
}

/**
 * How many times closer to the ideal makespan `row` came than `reference`: the ratio of their
 * distances from it, each measured as measured/ideal - 1.
 */
function closerThan(row: OverheadRow, reference: OverheadRow): number {
  return (reference.ratio - 1) / Math.max(row.ratio - 1, 1e-9);
}

/** Two decimals where the 2x aimed at is decided: 1.97 must not read as 2.0. */
function timesCloser(value: number): string {
  return `${value >= 1000 ? '>1000' : value.toFixed(value < 10 ? 2 : 1)}x`;
}

/** The rounds of two harnesses paired by round (a round measures each once, one right after the other). */
function pairedRounds(rows: readonly OverheadRow[], reference: readonly OverheadRow[]): Array<[OverheadRow, OverheadRow]> {
  return rows.flatMap((row) => {
    const other = reference.find((r) => r.round === row.round);
    return other ? [[row, other] as [OverheadRow, OverheadRow]] : [];
  });
}

/** The memory size whose heap the peak RSS at c = 1000 is judged with: the smallest, where memory binds. */
export const RSS_JUDGED_AT_MB = 128;

const x = (value: number) => `${value.toFixed(2)}x`;
const pct = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;

/**
 * The targets of issue 6, each with the figure measured. A measurement taken in several rounds is
 * judged on its median over them.
 */
export function benchTargets(bench: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ratioTarget = (harness: OverheadHarness, concurrency: number, limit: number) => {
    const measured = rounds(bench.overhead, harness, concurrency);
    if (!measured.length) return;
    const ratio = overRounds(
      measured.map((row) => row.ratio),
      x,
      (value) => value.toFixed(2),
    );
    targets.push({ name: `${harness} measured/ideal at c=${concurrency}`, target: `<= ${limit}`, measured: ratio.text, met: ratio.value <= limit });
  };
  ratioTarget('undici', 100, 1.1);
  ratioTarget('undici', 1000, 1.5);
  ratioTarget('msw', 100, 1.25);
  // At concurrency 1 and 10 each request meets a cold, mostly idle process (and any preemption
  // on a busy machine lands in a span of a few requests): the steady state is read at 100 and up.
  for (const harness of ['undici', 'msw'] as const) {
    const mockAt = [100, 1000].flatMap((concurrency) => {
      const measured = rounds(bench.overhead, harness, concurrency).filter((row) => row.mockCpuUsPerRequest !== null);
      return measured.length ? [median(measured.map((row) => row.mockCpuUsPerRequest!))] : [];
    });
    if (!mockAt.length) continue;
    const worst = Math.max(...mockAt);
    targets.push({ name: `${harness} mock-only CPU per request, c >= 100`, target: '<= 30 us', measured: `${worst.toFixed(1)} us`, met: worst <= 30 });
  }
  // A sweep's cell runs Node with the heap Lambda gives its memory size, and V8 lets garbage grow
  // by those limits: the peak is judged as the smallest size's cell runs, with V8's default heap
  // beside it. The msw backend's client is global fetch, whose own peak (with no interception at
  // all) is beside each.
  for (const harness of ['undici', 'msw'] as const) {
    const asCell = rounds(bench.overhead, harness, 1000, RSS_JUDGED_AT_MB);
    const unlimited = rounds(bench.overhead, harness, 1000);
    const judged = asCell.length ? asCell : unlimited;
    if (!judged.length) continue;
    const peakOf = (of: OverheadRow[]) =>
      overRounds(
        of.map((row) => row.peakRssMb),
        (value) => `${value.toFixed(0)} MB`,
        (value) => value.toFixed(0),
      ).text;
    const peak = (of: OverheadRow[], heap: number | null) => {
      const fetchAlone = harness === 'msw' ? rounds(bench.overhead, 'fetch-client', 1000, heap) : [];
      return `${peakOf(of)}${fetchAlone.length ? ` (the fetch client alone: ${peakOf(fetchAlone)})` : ''}`;
    };
    targets.push({
      name: `${harness} peak RSS at c=1000${asCell.length ? `, the heap of a ${RSS_JUDGED_AT_MB} MB cell` : ''}`,
      target: '<= 150 MB',
      measured:
        asCell.length && unlimited.length
          ? `${peak(asCell, RSS_JUDGED_AT_MB)}; with V8's default heap ${peak(unlimited, null)}`
          : peak(judged, judged[0]!.lambdaMemoryMb),
      met: median(judged.map((row) => row.peakRssMb)) <= 150,
    });
  }
  for (const concurrency of [100, 1000]) {
    const naive = rounds(bench.overhead, 'naive', concurrency);
    // The undici backend's client is undici.request, which no msw harness answers: it is read
    // against the naive harness as a whole. The msw backend is judged against the naive
    // harness's mock answering the same job (the built-in job, whose client timeout is its own
    // cost, not the harness's), with the naive harness's own job beside it.
    for (const harness of ['undici', 'msw'] as const) {
      const measured = rounds(bench.overhead, harness, concurrency);
      const sameJob = harness === 'msw' ? rounds(bench.overhead, 'naive-mock', concurrency) : [];
      const reference = sameJob.length ? sameJob : naive;
      const pairs = pairedRounds(measured, reference);
      if (!pairs.length) continue;
      const closer = overRounds(
        pairs.map(([row, ref]) => closerThan(row, ref)),
        timesCloser,
      );
      const ratios = `${x(median(pairs.map(([row]) => row.ratio)))} vs ${x(median(pairs.map(([, ref]) => ref.ratio)))}`;
      const ownJob = sameJob.length ? pairedRounds(measured, naive) : [];
      const besideOwnJob = ownJob.length
        ? `; against the naive harness with its own job (no client timeout) ${
            overRounds(
              ownJob.map(([row, ref]) => closerThan(row, ref)),
              timesCloser,
            ).text
          } (vs ${x(median(ownJob.map(([, ref]) => ref.ratio)))})`
        : '';
      targets.push({
        name: `${harness} closer to ideal than the naive harness at c=${concurrency}${sameJob.length ? ', the same job' : ''}`,
        target: '>= 2x',
        measured: `${closer.text} (${ratios})${besideOwnJob}`,
        met: closer.value >= 2,
      });
    }
  }
  targets.push(...netTargets(bench.net));
  targets.push({
    name: 'simulator: whole grid',
    target: '< 1000 ms',
    measured: `${bench.simulator.gridMs.toFixed(1)} ms (${bench.simulator.cells} cells)`,
    met: bench.simulator.gridMs < 1000,
  });
  const checked = bench.validation.flatMap((v) => v.cells.filter((cell) => cell.checked).map((cell) => ({ ...cell, scenario: v.scenario })));
  if (checked.length) {
    const worst = checked.reduce((a, b) => (Math.abs(b.modelError ?? 0) > Math.abs(a.modelError ?? 0) ? b : a));
    targets.push({
      name: 'simulator vs replay at faithful cells (every bundled scenario)',
      target: '<= 5%',
      measured: `worst ${pct(worst.modelError ?? 0)} (${worst.scenario}, c=${worst.concurrency}); ${checked.filter((c) => c.withinTolerance).length}/${checked.length} within`,
      met: checked.every((cell) => cell.withinTolerance),
    });
  }
  if (Number.isFinite(bench.timeScale.scaledSweepS)) {
    targets.push({
      name: `default sweep of ${bench.timeScale.scenario} (${bench.timeScale.scaledCells} cells, x${bench.timeScale.timeScale})`,
      target: '< 60 s',
      measured: `${bench.timeScale.scaledSweepS.toFixed(1)} s`,
      met: bench.timeScale.scaledSweepS < 60,
    });
  }
  if (bench.timeScale.rows.length) {
    const worst = bench.timeScale.rows.reduce((a, b) => (Math.abs(b.error) > Math.abs(a.error) ? b : a));
    const within = bench.timeScale.rows.filter((row) => Math.abs(row.error) <= 0.05).length;
    targets.push({
      name: `default sweep (x${bench.timeScale.timeScale}) vs real time, ${bench.timeScale.scenario}`,
      target: '<= 5%',
      measured: `worst ${pct(worst.error)} at c=${worst.concurrency}, ${worst.memoryMb} MB (uncorrected ${pct(worst.rawError)}); ${within}/${bench.timeScale.rows.length} within`,
      met: within === bench.timeScale.rows.length,
    });
  }
  return targets;
}

/** Columns padded to their widest cell, two spaces apart, under a rule: the bench's plain-text tables. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatBench(bench: BenchResults): string {
  const overhead = table(
    ['harness', 'c', 'round', 'N', 'ideal ms', 'measured/ideal', 'CPU us/req', 'mock us/req', 'peak RSS MB', 'heap'],
    bench.overhead.map((row) => [
      row.harness,
      String(row.concurrency),
      String(row.round),
      String(row.requests),
      row.idealMs.toFixed(0),
      `${x(row.ratio)}${row.ratios.length > 1 ? ` (${row.ratios.map((r) => r.toFixed(2)).join(' ')})` : ''}`,
      row.cpuUsPerRequest.toFixed(0),
      row.mockCpuUsPerRequest === null ? '-' : row.mockCpuUsPerRequest.toFixed(1),
      row.peakRssMb.toFixed(0),
      row.lambdaMemoryMb === null ? `V8 default (${row.heapLimitMb.toFixed(0)} MB)` : `a ${row.lambdaMemoryMb} MB cell's (${row.heapLimitMb.toFixed(0)} MB)`,
    ]),
  );
  const validation = table(
    ['scenario', 'c', 'MB', 'x', 'median ms', 'simulated ms', 'error', 'fidelity', 'checked'],
    bench.validation.flatMap((v) =>
      v.cells.map((cell) => [
        v.scenario,
        String(cell.concurrency),
        String(cell.memoryMb),
        String(v.timeScale),
        cell.medianMs.toFixed(0),
        cell.simulatedMs === undefined ? '-' : cell.simulatedMs.toFixed(0),
        cell.modelError === undefined ? '-' : pct(cell.modelError),
        x(cell.fidelityRatio),
        cell.checked ? (cell.withinTolerance ? 'ok' : 'OFF') : 'not faithful',
      ]),
    ),
  );
  const scaled = table(
    ['c', 'MB', 'real ms', `x${bench.timeScale.timeScale} raw ms`, 'corrected ms', 'error', 'uncorrected'],
    bench.timeScale.rows.map((row) => [
      String(row.concurrency),
      String(row.memoryMb),
      row.realMs.toFixed(0),
      row.scaledRawMs.toFixed(0),
      row.scaledMs.toFixed(0),
      pct(row.error),
      pct(row.rawError),
    ]),
  );
  const targets = table(
    ['target', 'wanted', 'measured', ''],
    bench.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'met' : 'NOT MET']),
  );
  const overheads = Object.entries(bench.clientOverheadUs)
    .map(([harness, us]) => `${harness} ${us!.toFixed(0)} us`)
    .join(', ');
  return [
    `Harness overhead: N requests of ${bench.overhead[0]?.latencyMs ?? 50} ms and ${((bench.overhead[0]?.bodyBytes ?? 10240) / 1024).toFixed(0)} KB, no parsing, each in its own process (median of the timed invocations; all of them in brackets)`,
    overhead,
    '',
    `Client CPU per request without the mock's, c=100: ${overheads}`,
    '',
    ...(bench.net.length
      ? [
          `The net backend against the floor (a bare node:http server: setTimeout, then end the body), real sockets in a fence, plain HTTP kept alive; N as above, medians; ${bench.netS.toFixed(0)} s`,
          formatNet(bench.net),
          '',
        ]
      : []),
    'Simulator vs replay (each cell calibrated from its own CPU time; checked where fidelity <= 1.10)',
    validation,
    '',
    `Time scaling, ${bench.timeScale.scenario}: the default sweep (${bench.timeScale.scaledCells} cells at x${bench.timeScale.timeScale}, ${bench.timeScale.parallelCells} at a time, report included) took ${bench.timeScale.scaledSweepS.toFixed(1)} s; the real-time sweep of the cells below, one at a time, ${bench.timeScale.realSweepS.toFixed(0)} s`,
    scaled,
    '',
    `Simulator: ${bench.simulator.cells} cells of ${bench.simulator.scenario} in ${bench.simulator.gridMs.toFixed(1)} ms`,
    '',
    targets,
  ].join('\n');
}
