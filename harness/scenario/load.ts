import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { ZodError, type z } from 'zod';
import { InputError } from '../errors.ts';
import { scenarioSchema, workloadFormIndex, type Scenario } from './schema.ts';

export const DEFAULT_SCENARIO = 'scenarios/seed-case-study.json';

/**
 * The scenario a sweep without one replays: the seed in the working directory (a checkout of this
 * project), else the seed the installed package carries, so `fanout-tuner sweep` works anywhere.
 */
export function defaultScenarioFile(): string {
  return existsSync(DEFAULT_SCENARIO) ? DEFAULT_SCENARIO : fileURLToPath(new URL(`../../${DEFAULT_SCENARIO}`, import.meta.url));
}

/** Reads a JSON file, turning a missing file or a syntax error into an InputError naming it. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      file,
      problem: code === 'ENOENT' ? `no such ${what}` : `cannot read the ${what} (${code ?? String(error)})`,
      fix: code === 'ENOENT' ? 'check the path' : 'check the file permissions',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError({
      file,
      problem: `not valid JSON (${(error as Error).message})`,
      fix: `correct the JSON syntax of the ${what}`,
    });
  }
}

/** Formats a zod issue path the way a user would write it: requests[2].host. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** The first validation issue as an InputError; the rest are counted so the user knows more may follow. */
export function issueToInputError(file: string, error: z.ZodError, fixHint: string): InputError {
  const [first] = error.issues;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  if (!first) return new InputError({ file, problem: 'invalid', fix: fixHint });
  return new InputError({
    file,
    field: first.path.length ? fieldPath(first.path) : '(top level)',
    problem: `${first.message}${more}`,
    fix: fixHint,
  });
}

/**
 * `workload` is a union of three forms, and a union that fails says only that no form matched.
 * When the object's keys tell which form it meant ("template", "function", "module"), the
 * problems of that form are the useful ones: workload.function.runtime rather than "must be one of".
 */
function narrowWorkloadIssues(error: z.ZodError, raw: unknown): z.ZodError {
  const workload = raw && typeof raw === 'object' ? (raw as { workload?: unknown }).workload : undefined;
  const form = workloadFormIndex(workload);
  if (form === undefined) return error;
  const issues = error.issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.path.length !== 1 || issue.path[0] !== 'workload') return [issue];
    const meant = issue.errors[form];
    if (!meant?.length) return [issue];
    return meant.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
  });
  return new ZodError(issues as z.core.$ZodIssue[]);
}

export function parseScenario(raw: unknown, file: string): Scenario {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw issueToInputError(file, narrowWorkloadIssues(parsed.error, raw), 'see schema/scenario.schema.json for the allowed fields and values');
  }
  return parsed.data;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readJsonFile(file, 'scenario file'), file);
}

/** Identifies a scenario's content, so results of different scenarios are never mixed up. */
export function scenarioHash(scenario: Scenario): string {
  const { $schema: _ignored, ...content } = scenario;
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

/** JSON with object keys sorted, so that the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
