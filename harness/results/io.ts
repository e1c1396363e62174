import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { issueToInputError, readJsonFile } from '../scenario/load.ts';
import { resultsSchema, type Results } from './schema.ts';
import { upgradeResults } from './versions.ts';
import { writeFileAtomic } from '../write-file.ts';

/** Reads and validates a results file; every problem is an InputError naming the file and field. */
export function loadResults(file: string): Results {
  // Older versions are upgraded: the head's tool reads the base's results in CI.
  const raw = upgradeResults(readJsonFile(file, 'results file'), file);
  const parsed = resultsSchema.safeParse(raw);
  if (!parsed.success) {
    throw issueToInputError(file, parsed.error, 'pass a results file written by `npm run sweep` (or `npm run merge`)');
  }
  return parsed.data;
}

/**
 * Whether a sweep may replace what lies at `file`: nothing, an empty file, or results this tool
 * wrote (of any version). Anything else is someone's data, never overwritten.
 */
export function isReplaceableResults(file: string): boolean {
  try {
    if (statSync(file).size === 0) return true;
    const value = JSON.parse(readFileSync(file, 'utf8')) as { tool?: { name?: unknown } } | null;
    return value?.tool?.name === 'fanout-tuner';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Writes the whole file through a temporary name, so a reader never sees half of it. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function appendJsonLine(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(value)}\n`);
}
