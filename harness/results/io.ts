import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.ts';
import { issueToInputError, readJsonFile } from '../scenario/load.ts';
import { resultsSchema, SCHEMA_VERSION, type Results } from './schema.ts';

/** Reads and validates a results file; every problem is an InputError naming the file and field. */
export function loadResults(file: string): Results {
  const raw = readJsonFile(file, 'results file');
  if (raw && typeof raw === 'object' && 'schemaVersion' in raw && raw.schemaVersion !== SCHEMA_VERSION) {
    throw new InputError({
      file,
      field: 'schemaVersion',
      problem: `is ${JSON.stringify(raw.schemaVersion)}, this version of fanout-tuner reads ${SCHEMA_VERSION}`,
      fix: 'produce the file again with this version of fanout-tuner',
    });
  }
  const parsed = resultsSchema.safeParse(raw);
  if (!parsed.success) {
    throw issueToInputError(file, parsed.error, 'pass a results file written by `npm run sweep` (or `npm run merge`)');
  }
  return parsed.data;
}

/** Writes the whole file through a temporary name, so a reader never sees half of it. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}

export function appendJsonLine(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(value)}\n`);
}
