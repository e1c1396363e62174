import type { CompletedCell } from '../results/schema.ts';
import type { Architecture } from '../model/pricing.ts';
import { InputError } from '../errors.ts';

/** What a recommendation changes in a deployment: the function's size, its workers and its timeout. */
export interface DeploymentSettings {
  memoryMb: number;
  architecture: Architecture;
  /** MAX_WORKERS, the job's concurrency. */
  maxWorkers: number;
  timeoutS: number;
  /** The measured p95 the timeout was derived from. */
  p95Ms: number;
}

/** Lambda's largest timeout. */
export const MAX_TIMEOUT_S = 900;

/**
 * The function timeout to deploy: the p95 with half again on top (ceil(p95 x 1.5) in whole
 * seconds), and never less than p95 + 3 s so that a short job still survives a slow DNS lookup or
 * a cold start; at most Lambda's 900 s. Headroom over p95 rather than over the median, because
 * one invocation in twenty already takes the p95, and a timeout is a failed run.
 */
export function timeoutWithHeadroomS(p95Ms: number): number {
  if (!Number.isFinite(p95Ms) || p95Ms < 0) throw new RangeError(`p95Ms must be a non-negative number, got ${p95Ms}`);
  const scaled = Math.ceil((p95Ms * 1.5) / 1000);
  const padded = Math.ceil((p95Ms + 3000) / 1000);
  return Math.min(MAX_TIMEOUT_S, Math.max(scaled, padded));
}

/** Settings for the recommended cell (Picked.winner). */
export function deploymentSettings(cell: Pick<CompletedCell, 'memoryMb' | 'architecture' | 'concurrency' | 'durationMs'>): DeploymentSettings {
  return {
    memoryMb: cell.memoryMb,
    architecture: cell.architecture,
    maxWorkers: cell.concurrency,
    timeoutS: timeoutWithHeadroomS(cell.durationMs.p95),
    p95Ms: cell.durationMs.p95,
  };
}

export const SETTINGS_FORMATS = ['json', 'env', 'tfvars', 'sam', 'serverless'] as const;
export type SettingsFormat = (typeof SETTINGS_FORMATS)[number];

export function parseSettingsFormat(value: string): SettingsFormat {
  if (!(SETTINGS_FORMATS as readonly string[]).includes(value)) {
    throw new InputError({ field: '--format', problem: `unknown format "${value}"`, fix: `use one of ${SETTINGS_FORMATS.join(', ')}` });
  }
  return value as SettingsFormat;
}

function origin(settings: DeploymentSettings): string {
  return (
    `fanout-tuner: ${settings.maxWorkers} workers at ${settings.memoryMb} MB ${settings.architecture}; ` +
    `timeout ${settings.timeoutS} s = max(p95 ${Math.round(settings.p95Ms)} ms x 1.5, p95 + 3 s), at most 900 s`
  );
}

/**
 * The settings as text to paste into deployment config. Pure. `sam` is the part of a function's
 * Properties that changes; `serverless` a `functions` entry named by `functionName` (default `job`).
 */
export function formatSettings(settings: DeploymentSettings, format: SettingsFormat, options: { functionName?: string } = {}): string {
  const workers = JSON.stringify(String(settings.maxWorkers));
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        { memoryMb: settings.memoryMb, architecture: settings.architecture, maxWorkers: settings.maxWorkers, timeoutS: settings.timeoutS },
        null,
        2,
      )}\n`;
    case 'env':
      return [
        `# ${origin(settings)}`,
        `MAX_WORKERS=${settings.maxWorkers}`,
        `LAMBDA_MEMORY_MB=${settings.memoryMb}`,
        `LAMBDA_ARCHITECTURE=${settings.architecture}`,
        `LAMBDA_TIMEOUT_S=${settings.timeoutS}`,
        '',
      ].join('\n');
    case 'tfvars':
      return [
        `# ${origin(settings)}`,
        `memory_size   = ${settings.memoryMb}`,
        `max_workers   = ${settings.maxWorkers}`,
        `architectures = ["${settings.architecture}"]`,
        `timeout       = ${settings.timeoutS}`,
        '',
      ].join('\n');
    case 'sam':
      return [
        `# ${origin(settings)}`,
        "# Under your function's Properties:",
        `MemorySize: ${settings.memoryMb}`,
        `Timeout: ${settings.timeoutS}`,
        'Architectures:',
        `  - ${settings.architecture}`,
        'Environment:',
        '  Variables:',
        `    MAX_WORKERS: ${workers}`,
        '',
      ].join('\n');
    case 'serverless':
      return [
        `# ${origin(settings)}`,
        'functions:',
        `  ${options.functionName ?? 'job'}:`,
        `    memorySize: ${settings.memoryMb}`,
        `    timeout: ${settings.timeoutS}`,
        `    architecture: ${settings.architecture}`,
        '    environment:',
        `      MAX_WORKERS: ${workers}`,
        '',
      ].join('\n');
  }
}
