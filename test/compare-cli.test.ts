import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gridResults, otherScenario, otherScenarioHash, QUIET } from './fixtures/compare.ts';

const dir = mkdtempSync(join(tmpdir(), 'fanout-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function compare(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare.ts', ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const base = write('base.json', gridResults(1));
const same = write('same.json', gridResults(1));
const slower = write('slower.json', gridResults(1.3));
const otherScenarioFile = write('other.json', gridResults(1, QUIET, { scenario: otherScenario, scenarioHash: otherScenarioHash }));

describe('npm run compare', () => {
  it('exits 0 and prints "No regression" for identical results', () => {
    const run = compare(base, same);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('No regression beyond 5%.');
    expect(run.stderr).toBe('');
  });

  it('exits 1 for a head 30% slower, and names the regression in the Markdown file', () => {
    const markdown = join(dir, 'out', 'summary.md');
    const run = compare(base, slower, '--markdown', markdown, '--threshold', '5%');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('REGRESSION in 6 cells beyond 5%');
    const text = readFileSync(markdown, 'utf8');
    expect(text).toContain('**❌ 6 regressions** beyond the 5% threshold:');
    expect(text).toContain('- **concurrency 4, 1024 MB, x86\\_64**: +30.0%');
  });

  it('exits 2 with one line naming both scenarios for results of different scenarios', () => {
    const run = compare(base, otherScenarioFile);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('ran "tiny-other"');
    expect(run.stderr).toContain('--allow-scenario-change');
    expect(run.stdout).toBe('');
  });

  it('exits 2 for a missing file, invalid JSON and a file that is not results, naming the file', () => {
    const missing = compare(base, join(dir, 'nope.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`error: ${join(dir, 'nope.json')}: no such results file. Fix: check the path\n`);

    const broken = compare(write('broken.json', '{"schemaVersion": 1,'), base);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('broken.json: not valid JSON');

    const notResults = compare(base, write('scenario.json', { name: 'x' }));
    expect(notResults.status).toBe(2);
    expect(notResults.stderr).toMatch(/scenario\.json: \w/);
    expect(notResults.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 for a threshold of "abc" or "-5%" and writes no Markdown', () => {
    const markdown = join(dir, 'never.md');
    for (const threshold of ['abc', '-5%']) {
      const run = compare(base, slower, '--threshold', threshold, '--markdown', markdown);
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(
        `error: --threshold: "${threshold}" is not a positive percentage. Fix: pass the smallest slowdown that should fail the build, greater than 0, such as --threshold 5%\n`,
      );
    }
    expect(existsSync(markdown)).toBe(false);
  });

  it('exits 2 on an unknown flag with one line, and 0 with the usage for --help', () => {
    const unknown = compare(base, same, '--treshold', '5');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("error: unknown option '--treshold' (Did you mean --threshold?). Fix: run with --help for the usage\n");
    const help = compare('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 no regression, 1 regression beyond the threshold, 2 bad input.');
  });
});
