import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { mergeResults, type ResultsPart } from '../harness/results/merge.ts';
import { resultsSchema, type Results } from '../harness/results/schema.ts';
import { gridCells, gridOfResults, parseShard, selectShard, type Shard } from '../harness/sweep/shard.ts';
import { gridResults, otherScenario, otherScenarioHash, QUIET } from './fixtures/compare.ts';

describe('parseShard', () => {
  it('reads I/N with 1 <= I <= N', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard('3/3')).toEqual({ index: 3, count: 3 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
  });

  it('refuses anything else with a message naming --shard and the fix', () => {
    for (const text of ['0/3', '4/3', '1/0', '3', 'a/b', '', '-1/2', '1.5/3']) {
      expect(() => parseShard(text)).toThrow(InputError);
      expect(() => parseShard(text)).toThrow(/^--shard: .*Fix: pass --shard I\/N with 1 <= I <= N/);
    }
    expect(() => parseShard('4/3')).toThrow('--shard: "4/3" is not a shard: I must be from 1 to N');
  });
});

describe('selectShard', () => {
  const grid = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

  it('deals the grid round-robin, so every shard gets cells from the whole grid', () => {
    expect(selectShard(grid, { index: 1, count: 3 })).toEqual(['a', 'd', 'g']);
    expect(selectShard(grid, { index: 2, count: 3 })).toEqual(['b', 'e']);
    expect(selectShard(grid, { index: 3, count: 3 })).toEqual(['c', 'f']);
    expect(selectShard(grid, { index: 1, count: 1 })).toEqual(grid);
  });

  it('cuts any grid into shards that are disjoint and together the whole grid', () => {
    for (let count = 1; count <= 9; count++) {
      const parts = Array.from({ length: count }, (_, i) => selectShard(grid, { index: i + 1, count }));
      expect(parts.flat().sort()).toEqual(grid);
      expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    }
  });

  it('with a weight, evens out the shards where round-robin lines up with the grid', () => {
    // The seed's grid: 9 concurrencies x 6 memory sizes; a cell's cost taken as 1 / concurrency.
    const designGrid = gridCells({
      concurrency: [1, 2, 4, 8, 16, 32, 60, 64, 128],
      memoryMb: [128, 256, 512, 1024, 1769, 3008],
      architecture: 'x86_64',
    });
    const weight = (cell: { concurrency: number }) => 1 / cell.concurrency;
    const load = (cells: { concurrency: number }[]) => cells.reduce((sum, cell) => sum + weight(cell), 0);
    const shards = (options: { weight?: typeof weight }) => [1, 2, 3].map((index) => selectShard(designGrid, { index, count: 3 }, options));

    const roundRobin = shards({});
    expect(roundRobin[0]!.every((cell) => [1, 8, 60].includes(cell.concurrency))).toBe(true);
    expect(load(roundRobin[0]!) / load(roundRobin[2]!)).toBeCloseTo((1 + 1 / 8 + 1 / 60) / (1 / 4 + 1 / 32 + 1 / 128), 12);

    const weighted = shards({ weight });
    expect(weighted.flat()).toHaveLength(54);
    expect(new Set(weighted.flat()).size).toBe(54);
    const loads = weighted.map(load);
    expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.01);
    // The grid's order is kept within a shard.
    expect(weighted[0]).toEqual(designGrid.filter((cell) => weighted[0]!.includes(cell)));
  });

  it('refuses a shard that does not exist', () => {
    expect(() => selectShard(grid, { index: 0, count: 2 })).toThrow(RangeError);
  });
});

describe('gridCells', () => {
  it('lists memory sizes outer and concurrencies inner, in the order given, each once', () => {
    expect(gridCells({ concurrency: [4, 1, 4], memoryMb: [1024, 512], architecture: 'arm64' })).toEqual([
      { concurrency: 4, memoryMb: 1024, architecture: 'arm64' },
      { concurrency: 1, memoryMb: 1024, architecture: 'arm64' },
      { concurrency: 4, memoryMb: 512, architecture: 'arm64' },
      { concurrency: 1, memoryMb: 512, architecture: 'arm64' },
    ]);
  });

  it('takes the grid a results file names over its scenario', () => {
    const results = gridResults(1, QUIET, { grid: { concurrency: [8], memoryMb: [1769] } });
    expect(gridOfResults(results)).toEqual({ concurrency: [8], memoryMb: [1769], architecture: 'x86_64' });
    expect(gridOfResults(gridResults(1))).toEqual({ concurrency: [1, 2, 4], memoryMb: [512, 1024], architecture: 'x86_64' });
  });
});

/** The unsharded results cut as `--shard I/N` would cut them, each part as its own file. */
function shardsOf(whole: Results, count: number): ResultsPart[] {
  return Array.from({ length: count }, (_, i) => {
    const shard: Shard = { index: i + 1, count };
    return {
      file: `shard-${i + 1}.json`,
      results: { ...whole, cells: selectShard(whole.cells, shard), shard, warnings: [`warning of shard ${i + 1}`] },
    };
  });
}

describe('mergeResults', () => {
  const whole = gridResults(1);

  it('merges the shards of a grid into exactly the cells of the unsharded grid, in grid order', () => {
    for (const count of [1, 2, 3, 4, 6]) {
      const merged = mergeResults(shardsOf(whole, count).reverse());
      expect(merged.cells).toEqual(whole.cells);
      expect(merged.shard).toBeUndefined();
      expect(merged.recommendation).toBeNull();
      expect(resultsSchema.parse(merged)).toEqual(merged);
    }
  });

  it('keeps the first method and environment and every shard warning', () => {
    const merged = mergeResults(shardsOf(whole, 3));
    expect(merged.method).toEqual(whole.method);
    expect(merged.env).toEqual(whole.env);
    expect(merged.warnings).toEqual(['warning of shard 1', 'warning of shard 2', 'warning of shard 3']);
    expect(merged.startedAt).toBe(whole.startedAt);
    expect(merged.finishedAt).toBe(whole.finishedAt);
  });

  it('refuses a shard passed twice', () => {
    const [one, two] = shardsOf(whole, 2);
    expect(() => mergeResults([one!, two!, { ...two!, file: 'copy.json' }])).toThrow(
      'copy.json: shard: is shard 2/2, and so is shard-2.json; shards must not overlap. Fix: pass each shard once',
    );
  });

  it('refuses a cell found in two files', () => {
    const [one, two] = shardsOf(whole, 2);
    const overlapping = { file: 'b.json', results: { ...two!.results, shard: undefined, cells: [...two!.results.cells, one!.results.cells[0]!] } };
    expect(() => mergeResults([one!, overlapping])).toThrow(
      'b.json: cells[3]: the cell concurrency 1, 512 MB, x86_64 is also in shard-1.json; shards must not overlap',
    );
  });

  it('refuses shards that leave cells of the grid unmeasured, naming the cells and the missing shard', () => {
    const [one, , three] = shardsOf(whole, 3);
    let error: unknown;
    try {
      mergeResults([one!, three!]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      'shard-1.json, shard-3.json: cells: 2 of 6 cells of the grid are missing ' +
        '(concurrency 2, 512 MB, x86_64; concurrency 2, 1024 MB, x86_64); missing shard 2/3. ' +
        'Fix: add the results of every shard (`npm run sweep -- --shard I/N --out FILE` for each I from 1 to N)',
    );
  });

  it('refuses shards of different scenarios', () => {
    const [one, two] = shardsOf(whole, 2);
    const other = { ...two!, results: { ...two!.results, scenario: otherScenario, scenarioHash: otherScenarioHash } };
    expect(() => mergeResults([one!, other])).toThrow(/^shard-2\.json: scenarioHash: ran scenario "tiny-other"/);
  });

  it('refuses shards cut with different N or swept over different grids', () => {
    const [one] = shardsOf(whole, 2);
    const [, two] = shardsOf(whole, 3);
    expect(() => mergeResults([one!, two!])).toThrow(/shard: the shards were cut with different N/);
    const otherGrid = { ...one!, file: 'g.json', results: { ...one!.results, grid: { concurrency: [1], memoryMb: [512] } } };
    expect(() => mergeResults([one!, otherGrid])).toThrow(/^g\.json: grid: was swept over a different grid/);
  });

  it('refuses a cell outside the grid and an empty list', () => {
    const stray = { file: 's.json', results: { ...whole, grid: { concurrency: [1], memoryMb: [512] } } };
    expect(() => mergeResults([stray])).toThrow('s.json: cells[1]: the cell concurrency 2, 512 MB, x86_64 is not in the grid');
    expect(() => mergeResults([])).toThrow(InputError);
  });

  it('warns when the shards come from different commits', () => {
    const [one, two] = shardsOf(whole, 2);
    const later = { ...two!, results: { ...two!.results, env: { ...two!.results.env, commit: 'fff0000' } } };
    expect(mergeResults([one!, later]).warnings).toContain('Merged shards were measured on different commits (abc1234, fff0000).');
  });
});

describe('npm run merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-merge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = shardsOf(gridResults(1), 3).map((part) => {
    const file = join(dir, part.file);
    writeFileSync(file, JSON.stringify(part.results));
    return file;
  });
  const merge = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/merge.ts', ...args], { encoding: 'utf8' });

  it('writes the merged results, and exits 2 without writing when a shard is missing', () => {
    const out = join(dir, 'all.json');
    const run = merge(...files, '--out', out);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`Merged 3 files, 6 cells, into ${out}\n`);
    expect((JSON.parse(readFileSync(out, 'utf8')) as Results).cells).toEqual(gridResults(1).cells);

    const partial = join(dir, 'partial.json');
    const refused = merge(files[0]!, files[2]!, '--out', partial);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('missing shard 2/3');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(partial)).toBe(false);
  });
});
