import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Results } from '../harness/results/schema.ts';

/**
 * Runs scripts/ci-sequence.sh, the CI workflow's sequence, end to end with the real sweep: two
 * shards of base and of head (both the current tree), merge, compare, Markdown, HTML reports.
 */

const dir = mkdtempSync(join(tmpdir(), 'fanout-ci-sequence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenarioFile = join(dir, 'ci-tiny.json');
writeFileSync(
  scenarioFile,
  JSON.stringify({
    name: 'ci-tiny',
    description: 'Four fast requests: the CI sequence, not the measurement, is under test',
    seed: 1,
    requests: [{ host: 'a.example', count: 4 }],
    hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 5 } } },
    work: { parse: 'none' },
  }),
);

function cellKeys(file: string): string[] {
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  return results.cells.map((cell) => `${cell.concurrency}x${cell.memoryMb}`);
}

describe('scripts/ci-sequence.sh', () => {
  it('sweeps two shards of base and head, merges them into the whole grid, compares and reports, exit 0', () => {
    const out = join(dir, 'out');
    const run = spawnSync('bash', ['scripts/ci-sequence.sh', scenarioFile, out], {
      encoding: 'utf8',
      // Two repetitions cannot reach significance, so two runs of the same tree never differ: exit 0.
      env: { ...process.env, SHARD_COUNT: '2', REPS: '2', CONCURRENCY: '1,2', MEMORY: '1769', THRESHOLD: '5%' },
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect([...cellKeys(join(out, 'shards', 'base-1.json')), ...cellKeys(join(out, 'shards', 'base-2.json'))].sort()).toEqual(['1x1769', '2x1769']);
    expect(cellKeys(join(out, 'shards', 'head-1.json'))).toHaveLength(1);
    expect(cellKeys(join(out, 'results', 'base.json'))).toEqual(['1x1769', '2x1769']);
    expect(cellKeys(join(out, 'results', 'head.json'))).toEqual(['1x1769', '2x1769']);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('**✅ No regression** beyond the 5% threshold.');
    expect(run.stdout).toContain('No regression beyond 5%.');
    expect(existsSync(join(out, 'reports', 'head.html'))).toBe(true);
    expect(existsSync(join(out, 'reports', 'base.html'))).toBe(true);
  }, 300_000);

  it('empties only an OUT_DIR it made: a folder of other files is refused and left as it was', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'notes.txt'), 'mine');
    const refused = spawnSync('bash', ['scripts/ci-sequence.sh', scenarioFile, theirs], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      `error: ${theirs}: OUT_DIR exists and was not made by scripts/ci-sequence.sh (it has no .fanout-ci-sequence marker), so it is left as it is. Fix: pass a new or empty folder as OUT_DIR\n`,
    );
    expect(readdirSync(theirs)).toEqual(['notes.txt']);

    // One it made is emptied for the next run (here a run that stops at once on a missing scenario).
    const ours = join(dir, 'ours');
    mkdirSync(ours);
    writeFileSync(join(ours, '.fanout-ci-sequence'), '');
    writeFileSync(join(ours, 'summary.md'), 'an older run');
    const rerun = spawnSync('bash', ['scripts/ci-sequence.sh', join(dir, 'missing.json'), ours], { encoding: 'utf8' });
    expect(rerun.status).toBe(2);
    expect(readdirSync(ours).sort()).toEqual(['.fanout-ci-sequence', 'reports', 'results', 'shards']);
  }, 60_000);
});
