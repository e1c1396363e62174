import { InputError } from '../errors.ts';
import { DEFAULT_MAX_ERROR_RATE } from './recommend.ts';
import { cellKeyId, describeCell, type CellKey } from '../results/cell-key.ts';
import type { Cell, CellState, Recommendation, Results } from '../results/schema.ts';
import { STREAM, uniformAt } from '../scenario/random.ts';
import { repetitionsFromInterval, repetitionsNeeded, smallestPossiblePValue } from './repetitions.ts';
import { bootstrapRatioOfMedians, coefficientOfVariation, mannWhitneyU } from './two-sample.ts';
import { median } from './statistics.ts';

/**
 * Compares the results of two branches, cell by cell, for CI. Pure: the bootstrap is seeded, so
 * the same two files and seed give the same verdicts everywhere.
 *
 * The rule (documented in docs/ci.md, "Exit codes and the rule"):
 * - the change of a cell is the ratio median(head durations) / median(base durations);
 * - it is significant when the seeded bootstrap 95% interval of that ratio excludes 1 AND the
 *   Mann-Whitney U test agrees (p < 0.05): the percentile bootstrap alone is optimistic with the
 *   handful of repetitions a sweep affords;
 * - a regression is a significant slowdown whose point estimate exceeds 1 + threshold; an
 *   improvement a significant speed-up below 1 - threshold. Significant changes smaller than the
 *   threshold are reported as "within threshold" and do not fail the build;
 * - a cell that completed on base and fails on head (errored, oom, timeout) is a regression too;
 * - so is a cell whose share of failed requests rises beyond `maxErrorRate`, whatever its duration:
 *   a head that fails half its requests may well finish sooner;
 * - a head with no completed cell at all measured nothing and fails the gate, and two files that
 *   share no cell are bad input: in both cases nothing would have been compared.
 */

export { cellKeyId, describeCell, type CellKey };

export interface CompareOptions {
  /** A change smaller than this (in percent of the base median) never fails the build. */
  thresholdPct: number;
  /** Compare results of different scenarios anyway (a warning says so). */
  allowScenarioChange: boolean;
  confidence?: 0.95;
  /** Seeds the bootstrap; the same seed gives the same intervals. */
  seed?: number;
  resamples?: number;
  /** Names of the two files, for messages. */
  files?: { base: string; head: string };
  /**
   * The share of failed requests a cell may reach on head (default 0.01, as `recommend`'s); see
   * `errorRateRises` for when a rise counts.
   */
  maxErrorRate?: number;
}

export const DEFAULT_COMPARE_SEED = 1;
export const DEFAULT_RESAMPLES = 4000;
export const DEFAULT_COMPARE_MAX_ERROR_RATE = DEFAULT_MAX_ERROR_RATE;

/** What the durations say, before the error rates are looked at. */
export type DurationVerdict = 'regression' | 'improvement' | 'within-threshold' | 'no-significant-change' | 'too-few-reps';
/** `more-errors`: the error rate rose beyond the limit, which overrides any duration verdict. */
export type MeasuredVerdict = DurationVerdict | 'more-errors';
export type StateVerdict = 'newly-failing' | 'fixed' | 'both-failed';
export type Verdict = MeasuredVerdict | StateVerdict;

export interface MeasuredCellComparison {
  kind: 'measured';
  key: CellKey;
  baseReps: number;
  headReps: number;
  baseMedianMs: number;
  headMedianMs: number;
  /** median(head) / median(base). */
  ratio: number;
  changePct: number;
  /** Bootstrap interval of the ratio; null with fewer than 2 repetitions on a side. */
  ratioInterval: [number, number] | null;
  mannWhitneyP: number | null;
  significant: boolean;
  verdict: MeasuredVerdict;
  durationVerdict: DurationVerdict;
  /** Failed requests / requests over all repetitions, on each side, and the limit (`maxErrorRate`). */
  errorRate: { base: number; head: number; limit: number };
  /** The interval is wider than the threshold, or the repetitions cannot reach significance. */
  underpowered: boolean;
  /** Coefficient of variation of the durations, pooled over both sides. */
  pooledCv: number;
  /** Repetitions per side that would resolve a change of the threshold (set when underpowered). */
  repsNeeded: number | null;
  costPerMonthUsd: { base: number; head: number; changePct: number | null };
}

export interface StateCellComparison {
  kind: 'state';
  key: CellKey;
  baseState: CellState;
  headState: CellState;
  verdict: StateVerdict;
  /** What ended the failing side(s), from the results files. */
  baseError: string | null;
  headError: string | null;
}

export type CellComparison = MeasuredCellComparison | StateCellComparison;

export interface SideSummary {
  file: string;
  scenarioName: string;
  scenarioHash: string;
  commit: string;
  branch: string;
}

export interface RecommendationComparison {
  base: Recommendation | null;
  head: Recommendation | null;
  /** Concurrency, memory size or architecture differ (or only one side has a recommendation). */
  settingsChanged: boolean;
  costChangePct: number | null;
  durationChangePct: number | null;
}

export interface Comparison {
  base: SideSummary;
  head: SideSummary;
  thresholdPct: number;
  confidence: number;
  seed: number;
  resamples: number;
  scenarioChanged: boolean;
  maxErrorRate: number;
  /** Cells present on both sides, in the base file's order. */
  cells: CellComparison[];
  onlyInBase: CellKey[];
  onlyInHead: CellKey[];
  regressions: CellComparison[];
  improvements: CellComparison[];
  recommendation: RecommendationComparison;
  warnings: string[];
  /** Set when no cell completed on head: the gate fails, since head measured nothing. */
  headMeasuredNothing: string | null;
  hasRegression: boolean;
}

export function compareResults(base: Results, head: Results, options: CompareOptions): Comparison {
  const thresholdPct = options.thresholdPct;
  if (!(Number.isFinite(thresholdPct) && thresholdPct > 0)) {
    throw new RangeError(`thresholdPct must be a positive number, got ${thresholdPct}`);
  }
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? DEFAULT_COMPARE_SEED;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const files = options.files ?? { base: 'base', head: 'head' };
  const maxErrorRate = options.maxErrorRate ?? DEFAULT_COMPARE_MAX_ERROR_RATE;
  if (!(Number.isFinite(maxErrorRate) && maxErrorRate >= 0 && maxErrorRate <= 1)) {
    throw new RangeError(`maxErrorRate must be a share in [0, 1], got ${maxErrorRate}`);
  }
  const baseSide = sideSummary(base, files.base);
  const headSide = sideSummary(head, files.head);

  const scenarioChanged = base.scenarioHash !== head.scenarioHash;
  if (scenarioChanged && !options.allowScenarioChange) {
    throw new InputError({
      file: `${files.base}, ${files.head}`,
      field: 'scenarioHash',
      problem:
        `the two results come from different scenarios: ${files.base} ran "${baseSide.scenarioName}" (${baseSide.scenarioHash}), ` +
        `${files.head} ran "${headSide.scenarioName}" (${headSide.scenarioHash})`,
      fix: 'compare results of the same scenario, or pass --allow-scenario-change to compare them anyway',
    });
  }

  const warnings: string[] = [];
  if (scenarioChanged) {
    // Where both sides swept one file (CI does), the fields that differ are defaults the tools fill in differently.
    const changes = scenarioFieldChanges(base.scenario, head.scenario);
    const shown = changes.slice(0, MAX_FIELD_CHANGES_SHOWN).join(', ');
    const more = changes.length > MAX_FIELD_CHANGES_SHOWN ? ` and ${changes.length - MAX_FIELD_CHANGES_SHOWN} more` : '';
    warnings.push(
      `The scenario changed ("${baseSide.scenarioName}" ${baseSide.scenarioHash} -> "${headSide.scenarioName}" ${headSide.scenarioHash}` +
        `${changes.length ? `; ${shown}${more}` : ''}): differences may come from the scenario, not from the code.`,
    );
  }
  warnings.push(...measurementDifferences(base, head));

  const baseCells = indexCells(base.cells, files.base);
  const headCells = indexCells(head.cells, files.head);
  const cells: CellComparison[] = [];
  const onlyInBase: CellKey[] = [];
  for (const [id, baseCell] of baseCells) {
    const headCell = headCells.get(id);
    if (!headCell) onlyInBase.push(keyOf(baseCell));
    else cells.push(compareCell(baseCell, headCell, { thresholdPct, confidence, seed, resamples, maxErrorRate }));
  }
  const onlyInHead = [...headCells].filter(([id]) => !baseCells.has(id)).map(([, cell]) => keyOf(cell));
  const headCompleted = head.cells.filter((cell) => cell.state === 'completed').length;
  const headMeasuredNothing =
    headCompleted > 0
      ? null
      : head.cells.length === 0
        ? `${files.head} holds no cell: head measured nothing`
        : `no cell completed on head (${countStates(head.cells)}): head measured nothing`;
  if (!headMeasuredNothing && cells.length === 0) {
    throw new InputError({
      file: `${files.base}, ${files.head}`,
      field: 'cells',
      problem:
        `the two results share no cell (base: ${base.cells.map(describeCell).join('; ') || 'none'}; ` +
        `head: ${head.cells.map(describeCell).join('; ')}), so nothing can be compared`,
      fix: 'sweep base and head over the same --concurrency and --memory',
    });
  }
  if (onlyInBase.length) warnings.push(`Only in ${files.base} (not compared): ${onlyInBase.map(describeCell).join('; ')}.`);
  if (onlyInHead.length) warnings.push(`Only in ${files.head} (not compared): ${onlyInHead.map(describeCell).join('; ')}.`);

  const tooFew = cells.filter((c) => c.kind === 'measured' && c.durationVerdict === 'too-few-reps');
  if (tooFew.length) {
    warnings.push(
      `${tooFew.length} cell${tooFew.length === 1 ? ' has' : 's have'} fewer than 2 repetitions (or a zero median) on a side, so no interval can be formed ` +
        `(${tooFew.map((c) => describeCell(c.key)).join('; ')}); run the sweep with --reps 4 or more.`,
    );
  }
  const underpowered = cells.filter((c): c is MeasuredCellComparison => c.kind === 'measured' && c.underpowered && c.durationVerdict !== 'too-few-reps');
  if (underpowered.length) warnings.push(underpoweredWarning(underpowered, cells.length, thresholdPct, confidence));

  const regressions = cells.filter((c) => c.verdict === 'regression' || c.verdict === 'more-errors' || c.verdict === 'newly-failing');
  const improvements = cells.filter((c) => c.verdict === 'improvement' || c.verdict === 'fixed');
  return {
    base: baseSide,
    head: headSide,
    thresholdPct,
    confidence,
    seed,
    resamples,
    scenarioChanged,
    maxErrorRate,
    cells,
    onlyInBase,
    onlyInHead,
    regressions,
    improvements,
    recommendation: compareRecommendations(base.recommendation ?? null, head.recommendation ?? null),
    warnings,
    headMeasuredNothing,
    hasRegression: regressions.length > 0 || headMeasuredNothing !== null,
  };
}

const MAX_FIELD_CHANGES_SHOWN = 5;

/**
 * The fields two scenarios (as the results record them, defaults filled in) differ in, as
 * `path base -> head`, in key order: what a pull request changed, or which schema default.
 */
export function scenarioFieldChanges(base: unknown, head: unknown, path = ''): string[] {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isObject(base) && isObject(head)) {
    const keys = [...new Set([...Object.keys(base), ...Object.keys(head)])].filter((key) => key !== '$schema').sort();
    return keys.flatMap((key) => scenarioFieldChanges(base[key], head[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(base) && Array.isArray(head) && base.length === head.length) {
    return base.flatMap((item, i) => scenarioFieldChanges(item, head[i], `${path}[${i}]`));
  }
  return JSON.stringify(base) === JSON.stringify(head) ? [] : [`${path} ${fieldValue(base)} -> ${fieldValue(head)}`];
}

function fieldValue(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function sideSummary(results: Results, file: string): SideSummary {
  return {
    file,
    scenarioName: results.scenario.name,
    scenarioHash: results.scenarioHash,
    commit: results.env.commit,
    branch: results.env.branch,
  };
}

/** "4 errored, 2 oom": the states of failed cells, for messages. */
function countStates(cells: readonly Cell[]): string {
  const counts = new Map<string, number>();
  for (const cell of cells) counts.set(cell.state, (counts.get(cell.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/**
 * Whether a cell's error rate rose beyond the limit: from at most the limit to above it, or,
 * where base was already above it, by more than the limit again. The second arm keeps a cell
 * that always fails some requests (a scenario with 5% faults) from flapping on a change of a
 * request or two, while a head failing half its requests is caught wherever base stood.
 */
export function errorRateRises(base: number, head: number, maxErrorRate: number): boolean {
  if (!(head > maxErrorRate)) return false;
  return base <= maxErrorRate || head - base > maxErrorRate;
}

function keyOf(cell: CellKey): CellKey {
  return { concurrency: cell.concurrency, memoryMb: cell.memoryMb, architecture: cell.architecture };
}

function indexCells(cells: readonly Cell[], file: string): Map<string, Cell> {
  const byKey = new Map<string, Cell>();
  cells.forEach((cell, i) => {
    const id = cellKeyId(cell);
    if (byKey.has(id)) {
      throw new InputError({
        file,
        field: `cells[${i}]`,
        problem: `the cell ${describeCell(cell)} appears twice`,
        fix: 'pass a results file written by `npm run sweep` or `npm run merge`, which hold each cell once',
      });
    }
    byKey.set(id, cell);
  });
  return byKey;
}

/** Differences in how the two files were measured: the numbers then differ for that reason too. */
function measurementDifferences(base: Results, head: Results): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['mock backend', base.method.backend, head.method.backend],
    ['CPU throttling', base.method.cpuThrottle, head.method.cpuThrottle],
    ['time scale', base.method.timeScale, head.method.timeScale],
    ['CPUs', base.env.cpus, head.env.cpus],
    ['Node.js', base.env.node, head.env.node],
    ['platform', base.env.platform, head.env.platform],
  ];
  const differing = pairs.filter(([, a, b]) => a !== b).map(([what, a, b]) => `${what} ${String(a)} -> ${String(b)}`);
  return differing.length ? [`Base and head were measured differently (${differing.join(', ')}); part of any difference may come from that.`] : [];
}

interface CellTestOptions {
  thresholdPct: number;
  maxErrorRate: number;
  confidence: number;
  seed: number;
  resamples: number;
}

function compareCell(baseCell: Cell, headCell: Cell, options: CellTestOptions): CellComparison {
  const key = keyOf(baseCell);
  if (baseCell.state !== 'completed' || headCell.state !== 'completed') {
    const verdict: StateVerdict = baseCell.state === 'completed' ? 'newly-failing' : headCell.state === 'completed' ? 'fixed' : 'both-failed';
    return {
      kind: 'state',
      key,
      baseState: baseCell.state,
      headState: headCell.state,
      verdict,
      baseError: baseCell.state === 'completed' ? null : baseCell.error,
      headError: headCell.state === 'completed' ? null : headCell.error,
    };
  }
  const baseDurations = baseCell.reps.map((r) => r.durationMs);
  const headDurations = headCell.reps.map((r) => r.durationMs);
  const baseMedianMs = median(baseDurations);
  const headMedianMs = median(headDurations);
  const threshold = options.thresholdPct / 100;
  const costPerMonthUsd = {
    base: baseCell.costUsd.perMonth,
    head: headCell.costUsd.perMonth,
    changePct: baseCell.costUsd.perMonth > 0 ? (headCell.costUsd.perMonth / baseCell.costUsd.perMonth - 1) * 100 : null,
  };
  const errorRate = { base: baseCell.errorRate, head: headCell.errorRate, limit: options.maxErrorRate };
  const moreErrors = errorRateRises(errorRate.base, errorRate.head, options.maxErrorRate);
  const withErrors = (durationVerdict: DurationVerdict): { verdict: MeasuredVerdict; durationVerdict: DurationVerdict } => ({
    verdict: moreErrors ? 'more-errors' : durationVerdict,
    durationVerdict,
  });
  const pooledCv = Math.sqrt((coefficientOfVariation(baseDurations) ** 2 + coefficientOfVariation(headDurations) ** 2) / 2);
  const common = {
    kind: 'measured' as const,
    key,
    baseReps: baseDurations.length,
    headReps: headDurations.length,
    baseMedianMs,
    headMedianMs,
    pooledCv,
    costPerMonthUsd,
    errorRate,
  };

  if (baseDurations.length < 2 || headDurations.length < 2 || !(baseMedianMs > 0)) {
    const ratio = baseMedianMs > 0 ? headMedianMs / baseMedianMs : Number.NaN;
    return {
      ...common,
      ratio,
      changePct: (ratio - 1) * 100,
      ratioInterval: null,
      mannWhitneyP: null,
      significant: false,
      ...withErrors('too-few-reps'),
      underpowered: true,
      repsNeeded: repetitionsNeeded(pooledCv, options.thresholdPct, 1 - options.confidence),
    };
  }

  const interval = bootstrapRatioOfMedians(baseDurations, headDurations, {
    uniform: cellSequence(options.seed, key),
    resamples: options.resamples,
    confidence: options.confidence,
  });
  const alpha = 1 - options.confidence;
  const mannWhitneyP = mannWhitneyU(baseDurations, headDurations).pValue;
  const excludesOne = interval.lower > 1 || interval.upper < 1;
  const significant = excludesOne && mannWhitneyP < alpha;
  let verdict: DurationVerdict = 'no-significant-change';
  if (significant) {
    if (interval.lower > 1 && interval.ratio > 1 + threshold) verdict = 'regression';
    else if (interval.upper < 1 && interval.ratio < 1 - threshold) verdict = 'improvement';
    else verdict = 'within-threshold';
  }
  const underpowered = interval.upper - interval.lower > threshold || smallestPossiblePValue(baseDurations.length, headDurations.length) >= alpha;
  return {
    ...common,
    ratio: interval.ratio,
    changePct: (interval.ratio - 1) * 100,
    ratioInterval: [interval.lower, interval.upper],
    mannWhitneyP,
    significant,
    ...withErrors(verdict),
    underpowered,
    repsNeeded: underpowered
      ? Math.max(
          repetitionsNeeded(pooledCv, options.thresholdPct, alpha),
          repetitionsFromInterval(interval.upper - interval.lower, Math.min(baseDurations.length, headDurations.length), threshold),
        )
      : null,
  };
}

/** Each cell draws from its own stream, so adding or removing a cell does not move the others. */
function cellSequence(seed: number, key: CellKey): () => number {
  let draw = 0;
  const architectureBit = key.architecture === 'arm64' ? 1 : 0;
  return () => uniformAt(seed, key.concurrency, key.memoryMb * 2 + architectureBit, STREAM.jitter, draw++);
}

function underpoweredWarning(cells: MeasuredCellComparison[], total: number, thresholdPct: number, confidence: number): string {
  const widest = cells.reduce((a, b) => (intervalWidth(b) > intervalWidth(a) ? b : a));
  const repsNeeded = Math.max(...cells.map((c) => c.repsNeeded ?? 0));
  const maxCv = Math.max(...cells.map((c) => c.pooledCv));
  const widestText = widest.ratioInterval
    ? ` (widest: ${describeCell(widest.key)}, ${formatRatio(widest.ratioInterval[0])}-${formatRatio(widest.ratioInterval[1])})`
    : '';
  return (
    `${cells.length} of ${total} cells cannot resolve a ${thresholdPct}% change: their ${Math.round(confidence * 100)}% interval of head/base ` +
    `is wider than ${thresholdPct}% or their repetitions are too few for significance${widestText}. ` +
    `With the observed variation (coefficient of variation up to ${(maxCv * 100).toFixed(1)}%) about ${repsNeeded} repetitions ` +
    `per side would be needed: run the sweep with --reps ${repsNeeded}, or raise --threshold.`
  );
}

function intervalWidth(cell: MeasuredCellComparison): number {
  return cell.ratioInterval ? cell.ratioInterval[1] - cell.ratioInterval[0] : Number.POSITIVE_INFINITY;
}

function formatRatio(ratio: number): string {
  return ratio.toFixed(3);
}

function compareRecommendations(base: Recommendation | null, head: Recommendation | null): RecommendationComparison {
  const settingsChanged =
    (base === null) !== (head === null) ||
    (base !== null && head !== null && (base.concurrency !== head.concurrency || base.memoryMb !== head.memoryMb || base.architecture !== head.architecture));
  const change = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b !== undefined && a > 0 ? (b / a - 1) * 100 : null);
  return {
    base,
    head,
    settingsChanged,
    costChangePct: change(base?.costUsdPerMonth, head?.costUsdPerMonth),
    durationChangePct: change(base?.durationMs, head?.durationMs),
  };
}

/** Parses `--threshold`: "5%", "5" and "2.5%" all mean that many percent. */
export function parseThresholdPct(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const value = match ? Number(match[1]) : Number.NaN;
  if (!(value > 0)) {
    throw new InputError({
      field: '--threshold',
      problem: `"${text}" is not a positive percentage`,
      fix: 'pass the smallest slowdown that should fail the build, greater than 0, such as --threshold 5%',
    });
  }
  return value;
}
