import { InputError } from '../errors.ts';
import { SCHEMA_VERSION } from './schema.ts';

/**
 * Reading results files of older schema versions. In CI the head's fanout-tuner compares against
 * results the base's wrote, so a pull request that bumps `schemaVersion` must still read the
 * base's files: each bump adds here the step that upgrades a file of the previous version to the
 * next (add, rename or derive fields), and test/results-versions.test.ts fails while a step is
 * missing. A file newer than this tool is refused with the fix.
 */
export type ResultsUpgrade = (raw: Record<string, unknown>) => Record<string, unknown>;

/** The upgrade from version N (the key) to N + 1. Empty while 1 is the only version there has been. */
export const RESULTS_UPGRADES: Readonly<Record<number, ResultsUpgrade>> = {};

/**
 * The parsed JSON of a results file in the current schema version: returned as is when it is
 * current (or carries no version, which the schema then refuses by name), upgraded step by step
 * when older.
 */
export function upgradeResults(
  raw: unknown,
  file: string,
  upgrades: Readonly<Record<number, ResultsUpgrade>> = RESULTS_UPGRADES,
  current: number = SCHEMA_VERSION,
): unknown {
  if (!raw || typeof raw !== 'object' || !('schemaVersion' in raw) || raw.schemaVersion === current) return raw;
  const version = raw.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new InputError({ file, field: 'schemaVersion', problem: `is ${JSON.stringify(version)}, not a version number`, fix: 'pass a results file written by `npm run sweep`' });
  }
  if (version > current) {
    throw new InputError({
      file,
      field: 'schemaVersion',
      problem: `is ${version}, written by a newer fanout-tuner than this one, which reads versions up to ${current}`,
      fix: 'read it with the fanout-tuner that wrote it, or a newer one',
    });
  }
  let upgraded = raw as Record<string, unknown>;
  for (let from = version; from < current; from++) {
    const step = upgrades[from];
    if (!step) {
      throw new InputError({
        file,
        field: 'schemaVersion',
        problem: `is ${version}, and this fanout-tuner (version ${current}) has no upgrade from version ${from}`,
        fix: 'produce the file again with this version of fanout-tuner',
      });
    }
    upgraded = { ...step(upgraded), schemaVersion: from + 1 };
  }
  return upgraded;
}
