import { cpuShare } from '../model/lambda.ts';
import { isCompleted, type Cell, type CompletedCell } from '../results/schema.ts';

/**
 * Pure: is the job waiting on the network or on its CPU, and which knob helps: more concurrency
 * or more memory (which buys CPU on Lambda)? Read from CPU time / wall time per cell.
 */

export type Boundness = 'io-bound' | 'mixed' | 'cpu-bound';

/** At or below this share of its usable CPU in use, a cell waits on I/O. */
export const IO_BOUND_BELOW = 0.3;
/** At or above it, the CPU is the bottleneck. */
export const CPU_BOUND_ABOVE = 0.6;
/** A setting that is less than this much faster does not count as helping. */
export const HELPS_MIN_GAIN = 0.05;

/** Cores the job can use at a memory size: one event loop plus its parse threads, within Lambda's vCPUs. */
export function usableCores(memoryMb: number, threads: number): number {
  return Math.min(cpuShare(memoryMb), 1 + threads);
}

/** CPU time over the CPU the cell could have used during its duration (0 to about 1). */
export function cpuBusy(cell: CompletedCell, threads: number): number {
  const wall = cell.durationMs.median * usableCores(cell.memoryMb, threads);
  return wall > 0 ? cell.cpuMs.median / wall : 0;
}

export function boundness(busy: number): Boundness {
  if (busy <= IO_BOUND_BELOW) return 'io-bound';
  if (busy >= CPU_BOUND_ABOVE) return 'cpu-bound';
  return 'mixed';
}

export interface JobClassification {
  kind: Boundness;
  /** The cell the class is read from: the one asked for, else the fastest. */
  concurrency: number;
  memoryMb: number;
  cpuBusy: number;
  /** How much faster the largest memory size measured is than the smallest, at that concurrency (undefined with one size). */
  memoryGain: number | undefined;
  /** How much faster the best concurrency at that memory size is than the next lower one measured (undefined when none is lower). */
  concurrencyGain: number | undefined;
  /** Whether the best concurrency is the highest measured, so that more might still help. */
  bestIsHighest: boolean;
  advice: string;
}

const percent = (x: number) => `${Math.round(x * 100)}%`;

/** The commands' default limit on failed requests (recommend.ts's DEFAULT_MAX_ERROR_RATE). */
const DEFAULT_ERROR_LIMIT = 0.01;

const FAILURE_WORDS: Record<keyof CompletedCell['errorsByKind'], string> = {
  http429: '429s (rate limited)',
  timeout: 'timeouts',
  http5xx: '5xx answers',
  reset: 'reset connections',
  other: 'other errors',
};

/** Failed attempts (retried or not) per request: how hard the hosts pushed back. */
function failedAttemptsPerRequest(cell: CompletedCell): number {
  const failed = Object.values(cell.errorsByKind).reduce((sum, n) => sum + n, 0);
  const requests = cell.reps.reduce((sum, rep) => sum + rep.requests, 0);
  return requests > 0 ? failed / requests : 0;
}

/** From this many failed attempts per request the advice names the hosts' pushback. */
const PUSHBACK_SHARE = 0.1;

/** The kind of failure a cell saw most of, in words. */
function mostlyFailing(cell: CompletedCell): string {
  const kinds = Object.entries(cell.errorsByKind) as Array<[keyof CompletedCell['errorsByKind'], number]>;
  const [kind] = kinds.reduce((a, b) => (b[1] > a[1] ? b : a));
  return FAILURE_WORDS[kind];
}

/**
 * Classifies the job from its completed cells. `at` names the cell to read (the recommendation);
 * without it, or when it is not among the completed cells, the fastest cell is read. Cells that
 * failed more requests than `maxErrorRate` (default 1%) are left out of every comparison: they are
 * faster only because they did less work. The advice says so when they are the higher concurrencies.
 */
export function classifyJob(
  cells: readonly Cell[],
  threads: number,
  at?: { concurrency: number; memoryMb: number },
  /** `deployedFunction`: the job is the user's own function, whose parsing this tool cannot move to a worker pool. */
  options: { maxErrorRate?: number; deployedFunction?: boolean } = {},
): JobClassification | undefined {
  const limit = options.maxErrorRate ?? DEFAULT_ERROR_LIMIT;
  const all = cells.filter(isCompleted);
  const completed = all.filter((cell) => cell.errorRate <= limit);
  if (completed.length === 0) return undefined;
  const fastest = completed.reduce((a, b) => (b.durationMs.median < a.durationMs.median ? b : a));
  const reference = (at && completed.find((c) => c.concurrency === at.concurrency && c.memoryMb === at.memoryMb)) || fastest;
  const busy = cpuBusy(reference, threads);
  const kind = boundness(busy);

  const sameConcurrency = completed.filter((c) => c.concurrency === reference.concurrency).sort((a, b) => a.memoryMb - b.memoryMb);
  const smallest = sameConcurrency[0]!;
  const largest = sameConcurrency[sameConcurrency.length - 1]!;
  const memoryGain = largest.memoryMb > smallest.memoryMb ? 1 - largest.durationMs.median / smallest.durationMs.median : undefined;

  const sameMemory = completed.filter((c) => c.memoryMb === reference.memoryMb).sort((a, b) => a.concurrency - b.concurrency);
  const best = sameMemory.reduce((a, b) => (b.durationMs.median < a.durationMs.median ? b : a));
  const lower = sameMemory.filter((c) => c.concurrency < best.concurrency).at(-1);
  const concurrencyGain = lower ? 1 - best.durationMs.median / lower.durationMs.median : undefined;
  // Against every concurrency measured here, the failing ones too: more workers were tried.
  const bestIsHighest = all.every((c) => c.memoryMb !== reference.memoryMb || c.concurrency <= best.concurrency);

  const where = `${reference.concurrency} workers, ${reference.memoryMb} MB`;
  const lead =
    kind === 'io-bound'
      ? `I/O-bound: at ${where} the CPU is busy ${percent(busy)} of the time it could use; the job waits on the network.`
      : kind === 'cpu-bound'
        ? `CPU-bound: at ${where} the CPU is busy ${percent(busy)} of the time it could use; the job waits on its own CPU.`
        : `Partly CPU-bound: at ${where} the CPU is busy ${percent(busy)} of the time it could use.`;
  const memory =
    memoryGain === undefined
      ? kind === 'io-bound'
        ? 'More memory (more CPU) would buy little; only one memory size was measured.'
        : 'More memory (more CPU) should help; only one memory size was measured, so sweep larger ones.'
      : memoryGain >= HELPS_MIN_GAIN
        ? `More memory helps: ${largest.memoryMb} MB is ${percent(memoryGain)} faster than ${smallest.memoryMb} MB at ${reference.concurrency} workers.`
        : `More memory does not help: ${largest.memoryMb} MB is ${memoryGain >= 0 ? 'only ' : ''}${percent(Math.abs(memoryGain))} ${memoryGain >= 0 ? 'faster' : 'slower'} than ${smallest.memoryMb} MB at ${reference.concurrency} workers.`;
  const concurrency =
    sameMemory.length === 1 && bestIsHighest
      ? 'Only one concurrency was measured at this size.'
      : bestIsHighest && concurrencyGain !== undefined && concurrencyGain >= HELPS_MIN_GAIN
        ? kind === 'cpu-bound'
          ? `More concurrency still shortened the run (${best.concurrency} workers are ${percent(concurrencyGain)} faster than ${lower!.concurrency}), but with the CPU this busy, expect little more from it.`
          : `More concurrency still helps: ${best.concurrency} workers, the most measured, are ${percent(concurrencyGain)} faster than ${lower!.concurrency}; sweep higher.`
        : `More concurrency does not help beyond ${best.concurrency} workers${kind === 'cpu-bound' ? ': the CPU, not the workers, limits the job' : ''}.`;
  // Higher concurrencies at this size that only bought failures.
  const failing = all
    .filter((c) => c.memoryMb === reference.memoryMb && c.errorRate > limit && c.concurrency > best.concurrency)
    .sort((a, b) => a.concurrency - b.concurrency);
  // Or higher concurrencies that still succeeded, but only after the hosts turned attempts away.
  const pushedBack = all
    .filter((c) => c.memoryMb === reference.memoryMb && c.concurrency > best.concurrency && failedAttemptsPerRequest(c) >= PUSHBACK_SHARE)
    .sort((a, b) => a.concurrency - b.concurrency)
    .at(-1);
  const failures =
    failing.length > 0
      ? ` Above ${best.concurrency} workers the job fails: ${failing
          .map((c) => `${c.concurrency} workers lose ${percent(c.errorRate)} of requests, mostly to ${mostlyFailing(c)}`)
          .join('; ')}, over the ${percent(limit)} error-rate limit, so their speed is work not done.`
      : pushedBack
        ? ` Above ${best.concurrency} workers the hosts push back: ${pushedBack.concurrency} workers met ${Math.round(failedAttemptsPerRequest(pushedBack) * 100)} failed attempts per 100 requests, mostly ${mostlyFailing(pushedBack)}, and waited to retry them (${percent(pushedBack.errorRate)} of requests failed for good).`
        : '';
  const threadsHint =
    kind !== 'io-bound' && threads === 0 && !options.deployedFunction
      ? ' Parsing on a worker pool (work.threads) with more than 1769 MB (more than one vCPU) takes the parse off the event loop.'
      : '';
  return {
    kind,
    concurrency: reference.concurrency,
    memoryMb: reference.memoryMb,
    cpuBusy: busy,
    memoryGain,
    concurrencyGain,
    bestIsHighest,
    advice: `${lead} ${memory} ${concurrency}${failures}${threadsHint}`,
  };
}
