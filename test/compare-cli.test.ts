import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allFailedResults, gridResults, otherScenario, otherScenarioHash, QUIET, withFailedRequests } from './fixtures/compare.ts';

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
const halfFailingFaster = write('half-failing.json', withFailedRequests(gridResults(0.8), 5));
const allErrored = write('all-errored.json', allFailedResults());
const allTimedOut = write('all-timed-out.json', allFailedResults('timeout', 'over 30 s'));
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

  it('exits 1 for a head that fails half its requests while finishing 20% sooner, and 0 when the limit allows it', () => {
    const run = compare(base, halfFailingFaster);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('REGRESSION in 6 cells beyond 5%:');
    expect(run.stdout).toContain('  concurrency 1, 512 MB, x86_64: more failed requests 0% -> 50%, beyond the limit of 1.0%; duration -20.0%');
    const allowed = compare(base, halfFailingFaster, '--max-error-rate', '0.6');
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain('No regression beyond 5%.');
  });

  it('exits 1, not 2, for a head whose every cell failed, whether or not base completed', () => {
    const fromCompleted = compare(base, allErrored);
    expect(fromCompleted.status).toBe(1);
    expect(fromCompleted.stdout).toContain('FAILED: no cell completed on head (6 errored): head measured nothing.');
    expect(fromCompleted.stdout).toContain('REGRESSION in 6 cells beyond 5%:');
    const bothFailed = compare(allTimedOut, allErrored);
    expect(bothFailed.status).toBe(1);
    expect(bothFailed.stderr).toBe('');
    expect(bothFailed.stdout).toContain('FAILED: no cell completed on head (6 errored): head measured nothing.');
  });

  it('exits 2 for a --max-error-rate that is not a share', () => {
    const run = compare(base, same, '--max-error-rate', '5%');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('error: --max-error-rate: "5%" is not a number from 0 to 1. Fix: pass for example --max-error-rate 1\n');
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
