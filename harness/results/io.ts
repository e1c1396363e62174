import { appendFileSync, mkdirSync } from 'node:fs';
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

/** Writes the whole file through a temporary name, so a reader never sees half of it. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function appendJsonLine(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(value)}\n`);
}
