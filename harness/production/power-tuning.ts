import { recommend, type Picked, type RecommendOptions, type Strategy } from '../analyze/recommend.ts';
import { InputError } from '../errors.ts';
import { isCompleted, type Cell, type Results } from '../results/schema.ts';
import { formatDuration, formatPercent, formatSignedPercent } from '../report/format.ts';
import { isObject } from './cloudwatch.ts';
import { PRODUCTION_TOLERANCE } from './compare.ts';

/**
 * Out to AWS Lambda Power Tuning and back. Pure: results in, the state machine's input out; its
 * output in, our predictions beside its measurements out.
 *
 * Power Tuning (github.com/alexcasalboni/aws-lambda-power-tuning) runs the deployed function
 * `num` times at each of `powerValues` memory sizes and reports each size's trimmed-mean duration
 * and average cost; its input fields are documented in its README-EXECUTE.md, its output in
 * README.md, and the visualization URL is built by buildVisualizationURL in lambda/utils.js.
 */

/** Power Tuning refuses fewer invocations per size ("minimum 5"). */
export const MIN_POWER_TUNING_NUM = 5;
/** At least this many sizes, so Power Tuning draws a curve and not a point. */
export const MIN_POWER_VALUES = 3;
/** At most this many, so the run stays cheap: num invocations at each. */
export const MAX_POWER_VALUES = 5;
/** Sizes from Power Tuning's own example, to pad a short list the sweep could not fill. */
export const POWER_TUNING_SIZES: readonly number[] = [128, 256, 512, 1024, 1536, 2048, 3008];

/** The state machine's input, as its README-EXECUTE.md names the fields. */
export interface PowerTuningInput {
  lambdaARN: string;
  powerValues: number[];
  num: number;
  payload: unknown;
  strategy: Strategy;
  balancedWeight?: number;
  /** Makes the output carry `stats` (every size's average duration), which import-power-tuning reads. */
  includeOutputResults: true;
}

export interface PowerTuningExport {
  input: PowerTuningInput;
  /** What the user should know before running it (sizes not swept, an event left out). */
  notes: string[];
}

function logDistance(a: number, b: number): number {
  return Math.abs(Math.log(a / b));
}

/**
 * The memory sizes to verify: those where the recommended concurrency met every constraint,
 * nearest the recommended size first (on a log scale, as memory sizes are spaced), at most 5;
 * fewer than 3 are padded with Power Tuning's own sizes nearest the recommended one.
 */
export function shortList(cells: readonly Cell[], picked: Picked, options: RecommendOptions): { powerValues: number[]; notSwept: number[] } {
  const { winner } = picked;
  // One rule for what is feasible: a cell is when recommend() would pick it alone.
  const feasible = cells
    .filter((cell) => cell.concurrency === winner.concurrency && cell.architecture === winner.architecture && isCompleted(cell))
    .filter((cell) => recommend([cell], options).kind === 'picked')
    .map((cell) => cell.memoryMb);
  const byCloseness = (a: number, b: number) => logDistance(a, winner.memoryMb) - logDistance(b, winner.memoryMb) || a - b;
  const chosen = [...new Set(feasible)].sort(byCloseness).slice(0, MAX_POWER_VALUES);
  const notSwept: number[] = [];
  for (const size of [...POWER_TUNING_SIZES].sort(byCloseness)) {
    if (chosen.length >= MIN_POWER_VALUES) break;
    if (chosen.includes(size)) continue;
    chosen.push(size);
    notSwept.push(size);
  }
  return { powerValues: chosen.sort((a, b) => a - b), notSwept: notSwept.sort((a, b) => a - b) };
}

/** The Power Tuning input for the recommended setting of these results. */
export function powerTuningInput(results: Results, picked: Picked, options: RecommendOptions): PowerTuningExport {
  const { powerValues, notSwept } = shortList(results.cells, picked, options);
  const notes: string[] = [];
  if (notSwept.length) {
    notes.push(
      `${notSwept.map((m) => `${m} MB`).join(', ')} ${notSwept.length === 1 ? 'was' : 'were'} not swept at ${picked.winner.concurrency} workers (Power Tuning needs ${MIN_POWER_VALUES} sizes): import-power-tuning will have no prediction for ${notSwept.length === 1 ? 'it' : 'them'}; add ${notSwept.join(',')} to --memory to compare`,
    );
  }
  const workload = results.scenario.workload;
  const event = workload && 'event' in workload ? workload.event : undefined;
  let payload: unknown = {};
  if (typeof event === 'string') {
    notes.push(`the scenario's event is the file ${event} (relative to the scenario file): paste its content as "payload"`);
  } else if (event !== undefined) {
    payload = event;
  }
  if (workload && 'concurrencyVariable' in workload && workload.concurrencyVariable) {
    notes.push(
      `set ${workload.concurrencyVariable}=${picked.winner.concurrency} on the function before the run: predictions are at ${picked.winner.concurrency} workers`,
    );
  } else {
    notes.push(
      `set the function's concurrency (MAX_WORKERS) to ${picked.winner.concurrency} before the run: predictions are at ${picked.winner.concurrency} workers`,
    );
  }
  const strategy = picked.recommendation.strategy;
  return {
    input: {
      lambdaARN: `arn:aws:lambda:${results.scenario.lambda.region}:ACCOUNT_ID:function:FUNCTION_NAME`,
      powerValues,
      // As many invocations per size as the recommended cell needed (a race gives its winner more), at least 5.
      num: Math.max(MIN_POWER_TUNING_NUM, picked.winner.reps.length),
      payload,
      strategy,
      // The same weight: ours and Power Tuning's are both 0 = speed only, 1 = cost only.
      ...(strategy === 'balanced' ? { balancedWeight: options.weight ?? 0.5 } : {}),
      includeOutputResults: true,
    },
    notes,
  };
}

/** One memory size Power Tuning measured. */
export interface PowerTuningMeasurement {
  memoryMb: number;
  /** Power Tuning's average duration (a mean with the top and bottom 20% left out). */
  measuredMs: number;
}

/** Power Tuning's measurement against our prediction at the same size and concurrency. */
export interface PowerTuningRow {
  memoryMb: number;
  measuredMs: number;
  /** The sweep's median at this size and the concurrency compared; null when not swept or failed. */
  predictedMs: number | null;
  /** predictedMs / measuredMs - 1; null without a prediction. */
  error: number | null;
}

function fromBase64(text: string, bytesPerValue: number, file: string, part: string): DataView {
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || bytes.length === 0 || bytes.length % bytesPerValue !== 0) {
    throw new InputError({
      file,
      field: 'stateMachine.visualization',
      problem: `its ${part} are not base64 of ${bytesPerValue}-byte values`,
      fix: "pass Power Tuning's output unchanged, or run it with includeOutputResults: true so that it carries stats",
    });
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The sizes and durations of a visualization URL: `#` + base64 of an Int16Array of powers, `;`
 * base64 of a Float32Array of durations, `;` base64 of a Float32Array of costs, as
 * buildVisualizationURL writes them (typed arrays in the byte order of the Lambda that built
 * them: little-endian, as on every Lambda architecture).
 */
export function decodeVisualizationUrl(url: string, file = 'Power Tuning output'): PowerTuningMeasurement[] {
  let hash = url.slice(url.indexOf('#') + 1);
  // Copied from a browser's address bar, + / = may come percent-encoded.
  try {
    hash = decodeURIComponent(hash);
  } catch {
    // Not percent-encoded: kept as it is.
  }
  const parts = url.includes('#') ? hash.split(';') : [];
  if (parts.length !== 3) {
    throw new InputError({
      file,
      field: 'stateMachine.visualization',
      problem: 'is not a Power Tuning visualization URL (#powers;durations;costs)',
      fix: "pass Power Tuning's output unchanged, or run it with includeOutputResults: true so that it carries stats",
    });
  }
  const powers = fromBase64(parts[0]!, 2, file, 'powers');
  const durations = fromBase64(parts[1]!, 4, file, 'durations');
  const count = powers.byteLength / 2;
  if (durations.byteLength / 4 !== count) {
    throw new InputError({
      file,
      field: 'stateMachine.visualization',
      problem: `holds ${count} powers but ${durations.byteLength / 4} durations`,
      fix: "pass Power Tuning's output unchanged",
    });
  }
  const measurements = Array.from({ length: count }, (_, i) => ({ memoryMb: powers.getInt16(i * 2, true), measuredMs: durations.getFloat32(i * 4, true) }));
  const bad = measurements.find((m) => m.memoryMb < 128 || m.memoryMb > 10_240 || !Number.isFinite(m.measuredMs) || m.measuredMs < 0);
  if (bad) {
    throw new InputError({
      file,
      field: 'stateMachine.visualization',
      problem: `decodes to ${bad.memoryMb} MB at ${bad.measuredMs} ms, not a memory size of 128 to 10240 MB with a duration`,
      fix: "pass Power Tuning's output unchanged, or run it with includeOutputResults: true so that it carries stats",
    });
  }
  return measurements;
}

/**
 * Power Tuning's measurements from its output: the state machine's output (`{"results": {...}}`),
 * the analyzer's result alone, or `aws stepfunctions describe-execution` (its `output` a JSON
 * string). `stats` when present, else the visualization URL.
 */
export function readPowerTuningOutput(raw: unknown, file: string): PowerTuningMeasurement[] {
  let value = raw;
  if (isObject(value) && typeof value.output === 'string') {
    try {
      value = JSON.parse(value.output) as unknown;
    } catch {
      throw new InputError({
        file,
        field: 'output',
        problem: 'is not JSON',
        fix: 'pass the execution output of aws stepfunctions describe-execution unchanged',
      });
    }
  }
  if (isObject(value) && isObject(value.results)) value = value.results;
  if (!isObject(value)) {
    throw new InputError({ file, problem: 'is not a Power Tuning output', fix: 'pass the JSON output of the state machine execution' });
  }
  if (Array.isArray(value.stats) && value.stats.length > 0) {
    return value.stats.map((stat, i) => {
      const memoryMb = isObject(stat) ? Number(stat.value) : NaN;
      const measuredMs = isObject(stat) ? Number(stat.averageDuration) : NaN;
      if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10_240 || !Number.isFinite(measuredMs) || measuredMs < 0) {
        throw new InputError({
          file,
          field: `stats[${i}]`,
          problem: 'needs "value" (a memory size, 128 to 10240) and "averageDuration" (ms)',
          fix: "pass Power Tuning's output unchanged",
        });
      }
      return { memoryMb, measuredMs };
    });
  }
  const visualization = isObject(value.stateMachine) ? value.stateMachine.visualization : undefined;
  if (typeof visualization !== 'string') {
    throw new InputError({
      file,
      field: 'stats',
      problem: 'has neither stats nor stateMachine.visualization',
      fix: 'pass the output of a Power Tuning execution (run it with includeOutputResults: true)',
    });
  }
  return decodeVisualizationUrl(visualization, file);
}

/** Each measurement beside the sweep's median at the same size and concurrency, in order of size. */
export function comparePowerTuning(
  cells: readonly Cell[],
  measurements: readonly PowerTuningMeasurement[],
  setting: { concurrency: number; architecture: 'x86_64' | 'arm64' },
): PowerTuningRow[] {
  return [...measurements]
    .sort((a, b) => a.memoryMb - b.memoryMb)
    .map(({ memoryMb, measuredMs }) => {
      const cell = cells.find((c) => c.concurrency === setting.concurrency && c.memoryMb === memoryMb && c.architecture === setting.architecture);
      const predictedMs = cell && isCompleted(cell) ? cell.durationMs.median : null;
      return { memoryMb, measuredMs, predictedMs, error: predictedMs !== null && measuredMs > 0 ? predictedMs / measuredMs - 1 : null };
    });
}

/** Power Tuning's run as the report shows it: where it came from, the concurrency compared, the rows. */
export interface PowerTuningView {
  source: string;
  concurrency: number;
  rows: PowerTuningRow[];
}

/** The size where the prediction is furthest from Power Tuning's measurement; undefined when none was compared. */
export function worstPowerTuningRow(rows: readonly PowerTuningRow[]): (PowerTuningRow & { error: number }) | undefined {
  const compared = rows.filter((row): row is PowerTuningRow & { error: number } => row.error !== null);
  return compared.length ? compared.reduce((a, b) => (Math.abs(b.error) > Math.abs(a.error) ? b : a)) : undefined;
}

/** The terminal table of import-power-tuning, with the worst error against the tolerance. */
export function formatPowerTuningTable(rows: readonly PowerTuningRow[], where: { outputFile: string; resultsFile: string; concurrency: number }): string {
  const lines = [
    `Power Tuning (${where.outputFile}) against the sweep at ${where.concurrency} workers (${where.resultsFile}):`,
    `${'memory MB'.padEnd(10)}${'measured'.padStart(10)}${'predicted'.padStart(11)}${'error'.padStart(9)}`,
  ];
  for (const row of rows) {
    lines.push(
      `${String(row.memoryMb).padEnd(10)}${formatDuration(row.measuredMs).padStart(10)}${(row.predictedMs === null ? 'not swept' : formatDuration(row.predictedMs)).padStart(11)}${(row.error === null ? '–' : formatSignedPercent(row.error)).padStart(9)}`,
    );
  }
  const worst = worstPowerTuningRow(rows);
  if (worst) {
    const within = Math.abs(worst.error) <= PRODUCTION_TOLERANCE;
    lines.push(
      `worst error ${formatSignedPercent(worst.error)} at ${worst.memoryMb} MB: ${within ? `every size within ±${formatPercent(PRODUCTION_TOLERANCE)}` : `beyond ±${formatPercent(PRODUCTION_TOLERANCE)}; revisit the scenario (latencies, body sizes, parse cost) before trusting its memory curve`}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
