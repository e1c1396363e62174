import { histogram, percentile, sortSamples, summarize } from '../analyze/statistics.ts';
import { InputError } from '../errors.ts';
import { invocationCost } from '../model/pricing.ts';
import { isCompleted, type Cell, type Production, type Results } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { Setting } from '../report/cell-views.ts';
import { settingLabel } from '../report/summary.ts';
import { formatDuration, formatPercent, formatSignedPercent, formatUsd } from '../report/format.ts';
import type { LambdaReport } from './cloudwatch.ts';

/**
 * Today's function in production against the sweep's prediction. Pure: REPORT records and
 * results in, the `production` block of the results out.
 */

/** Beyond this |predicted / production - 1| the scenario, not the setting, is what to fix first. */
export const PRODUCTION_TOLERANCE = 0.1;

/**
 * Buckets for production's durations, 32 per doubling (each about 2% wide): fine enough to show a
 * spread of a few percent beside a ±10% tolerance; only the populated ones are stored.
 */
export const PRODUCTION_BUCKETS_MS: readonly number[] = Array.from({ length: 32 * 20 + 1 }, (_, i) => Number((2 ** (i / 32)).toPrecision(6)));

/** Where today's setting came from, for messages that say what to fix. */
export interface TodaySource {
  /** Today's setting as far as the flag or the template says. */
  setting: Partial<Setting> | undefined;
  /** `--current` or the template's file, to name in a message. */
  field: string;
}

/**
 * The memory size the REPORT records were measured at: the most frequent one (a window that spans
 * a configuration change holds two), and how many records at other sizes are left out.
 */
export function logsMemorySize(reports: readonly LambdaReport[]): { memoryMb: number | undefined; leftOut: number } {
  const counts = new Map<number, number>();
  for (const report of reports) {
    if (report.memorySizeMb !== undefined) counts.set(report.memorySizeMb, (counts.get(report.memorySizeMb) ?? 0) + 1);
  }
  if (counts.size === 0) return { memoryMb: undefined, leftOut: 0 };
  // Most records first; on a tie the larger size, so the answer does not depend on the file's order.
  const [memoryMb, count] = [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]!;
  const sized = [...counts.values()].reduce((a, b) => a + b, 0);
  return { memoryMb, leftOut: sized - count };
}

/**
 * Today's setting: the concurrency from `--current` or the template, the memory size from the
 * logs (what really ran), which must agree with the flag's or the template's when they give one.
 */
export function todaySetting(logsFile: string, logsMemoryMb: number | undefined, today: TodaySource): Setting {
  const concurrency = today.setting?.concurrency;
  if (concurrency === undefined) {
    throw new InputError({
      file: logsFile,
      field: '--production',
      problem: 'the logs do not say at what concurrency the function ran',
      fix: 'pass --current CONCURRENCYxMEMORY_MB, the setting deployed today (e.g. --current 60x1024)',
    });
  }
  const stated = today.setting?.memoryMb;
  if (logsMemoryMb !== undefined && stated !== undefined && stated !== logsMemoryMb) {
    throw new InputError({
      field: today.field,
      problem: `says ${stated} MB, but the REPORT records of ${logsFile} ran at ${logsMemoryMb} MB`,
      fix: `pass --current ${concurrency}x${logsMemoryMb} to compare at the size the logs were measured at`,
    });
  }
  const memoryMb = logsMemoryMb ?? stated;
  if (memoryMb === undefined) {
    throw new InputError({
      file: logsFile,
      field: '--production',
      problem: 'no REPORT record states its memory size',
      fix: `pass --current ${concurrency}xMEMORY_MB with the memory size deployed today`,
    });
  }
  return { concurrency, memoryMb };
}

/** Refuses, before a sweep starts, a today's setting the grid would not measure. */
export function requireInGrid(setting: Setting, grid: { concurrency: readonly number[]; memoryMb: readonly number[] }): void {
  const missing = [
    grid.concurrency.includes(setting.concurrency) ? '' : `${setting.concurrency} to --concurrency`,
    grid.memoryMb.includes(setting.memoryMb) ? '' : `${setting.memoryMb} to --memory`,
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new InputError({
    field: '--production',
    problem: `today's setting, ${settingLabel(setting)}, is not in the sweep's grid, so there would be no prediction to hold against production`,
    fix: `add ${missing.join(' and ')}`,
  });
}

/** The records at today's memory size (all of them when none states a size). */
export function recordsAt(reports: readonly LambdaReport[], memoryMb: number): LambdaReport[] {
  return reports.filter((r) => r.memorySizeMb === undefined || r.memorySizeMb === memoryMb);
}

function isColdStart(report: LambdaReport): boolean {
  return report.initDurationMs !== undefined || report.restoreDurationMs !== undefined;
}

export interface ColdStarts {
  /** Mean INIT (or SnapStart restore) duration of the cold starts; undefined without one. */
  initDurationMs: number | undefined;
  coldStartRate: number;
}

/** A restore counts with its Billed Restore Duration when the line has one: that is what it costs. */
export function coldStarts(reports: readonly LambdaReport[]): ColdStarts {
  const phases = reports.filter(isColdStart).map((r) => r.initDurationMs ?? r.billedRestoreDurationMs ?? r.restoreDurationMs!);
  return {
    initDurationMs: phases.length ? summarize(sortSamples(phases)).mean : undefined,
    coldStartRate: reports.length ? phases.length / reports.length : 0,
  };
}

/** The `production` block: the records' statistics, today's bill, the prediction and its error. */
export function summarizeProduction(
  reports: readonly LambdaReport[],
  options: { source: string; setting: Setting; cells: readonly Cell[]; scenario: Scenario },
): Production {
  const { setting, scenario } = options;
  if (reports.length === 0) throw new RangeError('no REPORT records');
  const durations = sortSamples(reports.map((r) => r.durationMs));
  const median = percentile(durations, 0.5);
  const billedMs = summarize(sortSamples(reports.map((r) => r.billedDurationMs))).mean;
  const memoryUsed = reports.flatMap((r) => (r.maxMemoryUsedMb === undefined ? [] : [r.maxMemoryUsedMb]));
  const { initDurationMs, coldStartRate } = coldStarts(reports);
  const cell = options.cells.find(
    (c) => c.concurrency === setting.concurrency && c.memoryMb === setting.memoryMb && c.architecture === scenario.lambda.architecture,
  );
  const predictedMs = cell && isCompleted(cell) ? cell.durationMs.median : undefined;
  return {
    source: options.source,
    concurrency: setting.concurrency,
    memoryMb: setting.memoryMb,
    invocations: reports.length,
    durationMs: { median, p95: percentile(durations, 0.95), histogram: histogram(durations, PRODUCTION_BUCKETS_MS) },
    billedMs,
    ...(memoryUsed.length ? { maxMemoryUsedMb: Math.max(...memoryUsed) } : {}),
    ...(initDurationMs !== undefined ? { initDurationMs } : {}),
    coldStartRate,
    // Billed Duration already holds the INIT of cold starts, so no INIT is added here.
    costUsd: invocationCost({
      billedMs,
      memoryMb: setting.memoryMb,
      architecture: scenario.lambda.architecture,
      invocationsPerMonth: scenario.lambda.invocationsPerMonth,
      region: scenario.lambda.region,
    }),
    ...(predictedMs !== undefined ? { predictedMs, error: median > 0 ? predictedMs / median - 1 : 0 } : {}),
  };
}

/**
 * Every completed cell's cost with production's INIT billed at its cold-start rate: a cold start
 * costs the same INIT at any setting the sweep compares, and leaving it out flatters the large
 * sizes most, whose GB-seconds of INIT cost the most. INIT measured at today's size is applied to every size (it mostly
 * loads code, which a larger size does a little faster: the model errs against large sizes).
 */
export function priceColdStarts(cells: readonly Cell[], scenario: Scenario, starts: ColdStarts): Cell[] {
  if (starts.initDurationMs === undefined || starts.coldStartRate === 0) return [...cells];
  return cells.map((cell) =>
    isCompleted(cell)
      ? {
          ...cell,
          costUsd: invocationCost({
            billedMs: cell.billedMs,
            memoryMb: cell.memoryMb,
            architecture: cell.architecture,
            invocationsPerMonth: scenario.lambda.invocationsPerMonth,
            region: scenario.lambda.region,
            initMs: starts.initDurationMs,
            coldStartRate: starts.coldStartRate,
          }),
        }
      : cell,
  );
}

/** The method note a sweep priced with production's cold starts carries. */
export function coldStartNote(starts: ColdStarts, source: string): string | undefined {
  if (starts.initDurationMs === undefined || starts.coldStartRate === 0) return undefined;
  return `Costs include INIT: ${formatDuration(starts.initDurationMs)} on ${formatPercent(starts.coldStartRate)} of invocations (cold starts in ${source}), billed at each memory size.`;
}

/**
 * The warning when the prediction misses production by more than the tolerance, with what in the
 * scenario to revisit first: the job's CPU work when it is CPU-bound, its waits otherwise.
 */
export function productionWarning(production: Production, jobKind?: 'io-bound' | 'mixed' | 'cpu-bound'): string | undefined {
  const where = settingLabel(production);
  if (production.predictedMs === undefined || production.error === undefined) {
    return `Production (${production.source}): today's setting, ${where}, did not complete in this sweep, so there is no prediction to check; production ran ${production.invocations} invocations at a median of ${formatDuration(production.durationMs.median)}.`;
  }
  if (Math.abs(production.error) <= PRODUCTION_TOLERANCE) return undefined;
  const faster = production.error < 0;
  const waits = faster
    ? 'host latencies (the slowest hosts and their tails, connection setup), capacities and rate limits that may be too generous'
    : 'host latencies that may be too long, capacities and rate limits that may be too tight';
  const bodies = faster ? 'response body sizes that may be too small' : 'response body sizes that may be too large';
  const cpu = faster ? 'parse cost (work.parse) that may be too cheap' : 'parse cost (work.parse) that may be too dear';
  const revisit = jobKind === 'cpu-bound' ? [cpu, bodies, waits] : [waits, bodies, cpu];
  return (
    `Production (${production.source}): the sweep predicts ${formatDuration(production.predictedMs)} at ${where}, ` +
    `production's median is ${formatDuration(production.durationMs.median)} over ${production.invocations} invocations ` +
    `(${formatSignedPercent(production.error)}, beyond ±${formatPercent(PRODUCTION_TOLERANCE)}). ` +
    `The scenario is ${faster ? 'faster' : 'slower'} than production: revisit its ${revisit.join('; its ')}.`
  );
}

/** One line on production and the prediction, for the terminal and the Markdown summary. */
export function productionSentence(production: Production): string {
  const measured = `${production.invocations} invocations at ${settingLabel(production)}: median ${formatDuration(production.durationMs.median)}, p95 ${formatDuration(production.durationMs.p95)}, ${formatPercent(production.coldStartRate)} cold starts${production.initDurationMs !== undefined ? ` (INIT ${formatDuration(production.initDurationMs)})` : ''}, ${formatUsd(production.costUsd.perMonth)}/month`;
  if (production.predictedMs === undefined || production.error === undefined) return `${measured}; no prediction (the cell did not complete)`;
  const verdict =
    Math.abs(production.error) <= PRODUCTION_TOLERANCE ? `within ±${formatPercent(PRODUCTION_TOLERANCE)}` : `beyond ±${formatPercent(PRODUCTION_TOLERANCE)}`;
  return `${measured}; the sweep predicts ${formatDuration(production.predictedMs)} (${formatSignedPercent(production.error)}, ${verdict})`;
}

/** Results with the production block set (and its warning, when there is one), for the report. */
export function withProduction(results: Results, production: Production): Results {
  const warning = productionWarning(production, results.classification?.kind);
  // A block computed again (npm run report --production) replaces the sweep's, warning included.
  const warnings = results.warnings.filter((w) => !w.startsWith('Production ('));
  return { ...results, production, warnings: warning ? [...warnings, warning] : warnings };
}
