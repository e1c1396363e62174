import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { loadResults } from '../harness/results/io.ts';
import { SCHEMA_VERSION } from '../harness/results/schema.ts';
import { RESULTS_UPGRADES, upgradeResults, type ResultsUpgrade } from '../harness/results/versions.ts';
import { gridResults } from './fixtures/compare.ts';

const dir = mkdtempSync(join(tmpdir(), 'fanout-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('results of older schema versions', () => {
  it('has an upgrade from every older version, so the head of a pull request that bumps the version reads the base', () => {
    const versions = Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1);
    expect(
      Object.keys(RESULTS_UPGRADES)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(versions);
  });

  it('upgrades a file step by step to the current version', () => {
    // A made-up history: version 1 called the cells "grid", version 2 lacked `warnings`.
    const upgrades: Record<number, ResultsUpgrade> = {
      1: ({ grid, ...rest }) => ({ ...rest, cells: grid }),
      2: (raw) => ({ ...raw, warnings: [] }),
    };
    const upgraded = upgradeResults({ schemaVersion: 1, grid: [1, 2] }, 'old.json', upgrades, 3);
    expect(upgraded).toEqual({ schemaVersion: 3, cells: [1, 2], warnings: [] });
    const current = { schemaVersion: 3, cells: [] };
    expect(upgradeResults(current, 'new.json', upgrades, 3)).toBe(current);
  });

  it('refuses a version it has no upgrade from, and one newer than itself, naming the file and the fix', () => {
    expect(() => upgradeResults({ schemaVersion: 1 }, 'old.json', { 2: (raw) => raw }, 3)).toThrow(
      new InputError({
        file: 'old.json',
        field: 'schemaVersion',
        problem: 'is 1, and this fanout-tuner (version 3) has no upgrade from version 1',
        fix: 'produce the file again with this version of fanout-tuner',
      }),
    );
    expect(() => upgradeResults({ schemaVersion: 4 }, 'new.json', {}, 3)).toThrow(
      'new.json: schemaVersion: is 4, written by a newer fanout-tuner than this one, which reads versions up to 3',
    );
    expect(() => upgradeResults({ schemaVersion: 'one' }, 'x.json', {}, 3)).toThrow('x.json: schemaVersion: is "one", not a version number');
  });

  it('loads a results file of the current version unchanged, and refuses one from the future with exit-2 wording', () => {
    const file = join(dir, 'now.json');
    writeFileSync(file, JSON.stringify(gridResults(1)));
    expect(loadResults(file).cells).toHaveLength(6);
    const future = join(dir, 'future.json');
    writeFileSync(future, JSON.stringify({ ...gridResults(1), schemaVersion: SCHEMA_VERSION + 1 }));
    expect(() => loadResults(future)).toThrow(InputError);
    expect(() => loadResults(future)).toThrow(`schemaVersion: is ${SCHEMA_VERSION + 1}, written by a newer fanout-tuner`);
  });
});
