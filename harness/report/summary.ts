import { InputError } from '../errors.ts';
import { isCompleted, type Recommendation, type Results } from '../results/schema.ts';
import { failureVerb, findCell, oneWorkerBaseline, speedAndCostComparison, type Setting } from './cell-views.ts';
import { formatUsd, workers } from './format.ts';

/** The recommendation measured against another setting. */
export interface Comparison {
  /** "1 worker at 1024 MB" or "your current 60 workers at 1769 MB". */
  than: string;
  durationMs: number;
  costUsdPerMonth: number;
  /** 1 - recommended / baseline: positive when the recommendation is faster or cheaper. */
  fasterBy: number;
  cheaperBy: number;
  savedUsdPerMonth: number;
  /** "65% faster and 38% cheaper than 1 worker at 1024 MB ($0.70/month saved)". */
  sentence: string;
}

export interface ReportSummary {
  recommendation: Recommendation | null;
  /** "60 workers at 1024 MB (x86_64)", or why there is none. */
  headline: string;
  vsOneWorker: Comparison | undefined;
  /** Against `--current`: a comparison, or a sentence saying why none can be made. */
  vsCurrent: Comparison | string | undefined;
}

export function settingLabel(setting: Setting): string {
  return `${workers(setting.concurrency)} at ${setting.memoryMb} MB`;
}

function compare(pick: Recommendation, than: string, baseline: { durationMs: number; costUsdPerMonth: number }): Comparison {
  const saved = baseline.costUsdPerMonth - pick.costUsdPerMonth;
  const savedWords = saved > 0 ? ` (${formatUsd(saved)}/month saved)` : saved < 0 ? ` (${formatUsd(-saved)}/month more)` : '';
  return {
    than,
    durationMs: baseline.durationMs,
    costUsdPerMonth: baseline.costUsdPerMonth,
    fasterBy: baseline.durationMs === 0 ? 0 : 1 - pick.durationMs / baseline.durationMs,
    cheaperBy: baseline.costUsdPerMonth === 0 ? 0 : 1 - pick.costUsdPerMonth / baseline.costUsdPerMonth,
    savedUsdPerMonth: saved,
    sentence: `${speedAndCostComparison(baseline, pick, than)}${savedWords}`,
  };
}

export function buildSummary(results: Results, current?: Setting): ReportSummary {
  const pick = results.recommendation ?? null;
  if (!pick) {
    return {
      recommendation: null,
      headline: 'No recommendation: no setting met the constraints, or none was computed',
      vsOneWorker: undefined,
      vsCurrent: undefined,
    };
  }
  const baseline = oneWorkerBaseline(results, pick);
  const vsOneWorker =
    baseline && pick.concurrency !== 1
      ? compare(pick, `1 worker at ${pick.memoryMb} MB`, { durationMs: baseline.durationMs.median, costUsdPerMonth: baseline.costUsd.perMonth })
      : undefined;
  return {
    recommendation: pick,
    headline: `${settingLabel(pick)} (${pick.architecture})`,
    vsOneWorker,
    vsCurrent: current ? compareWithCurrent(results, pick, current) : undefined,
  };
}

function compareWithCurrent(results: Results, pick: Recommendation, current: Setting): Comparison | string {
  const setting = { ...current, architecture: current.architecture ?? pick.architecture };
  const label = settingLabel(setting);
  if (setting.concurrency === pick.concurrency && setting.memoryMb === pick.memoryMb && setting.architecture === pick.architecture) {
    return `Your current setting, ${label}, is already the recommended one.`;
  }
  const cell = findCell(results, setting);
  if (!cell) return `Your current setting, ${label}, was not measured in this sweep; add it to the grid to compare.`;
  if (!isCompleted(cell)) return `Your current setting, ${label}, ${failureVerb(cell)} in this sweep: ${cell.error}`;
  return compare(pick, `your current ${label}`, { durationMs: cell.durationMs.median, costUsdPerMonth: cell.costUsd.perMonth });
}

/** Reads `60x1024` (concurrency x memory in MB), as `--current` takes it. */
export function parseSetting(text: string, field = '--current'): Setting {
  const match = /^\s*(\d+)\s*[x×]\s*(\d+)\s*(?:mb)?\s*$/i.exec(text);
  const concurrency = Number(match?.[1]);
  const memoryMb = Number(match?.[2]);
  if (!match || concurrency < 1 || memoryMb < 128 || memoryMb > 10_240) {
    throw new InputError({
      field,
      problem: `"${text}" is not a setting`,
      fix: 'write CONCURRENCYxMEMORY_MB with a concurrency of at least 1 and a memory size of 128 to 10240, e.g. 60x1024',
    });
  }
  return { concurrency, memoryMb };
}
