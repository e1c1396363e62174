import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResults } from '../harness/results/io.ts';
import { quickScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * The package as a user gets it: packed, installed into an empty project, run through its bin with
 * npx. Installing takes tens of seconds and the npm cache (or registry), so it runs where
 * FANOUT_REQUIRE_PACKAGE=1 says it must (CI sets it) and is skipped elsewhere.
 */
const required = process.env.FANOUT_REQUIRE_PACKAGE === '1';
if (!required) console.warn('Skipping the packaged-install test: set FANOUT_REQUIRE_PACKAGE=1 to pack, install and run the package.');

const repoRoot = new URL('..', import.meta.url).pathname;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', timeout: 90_000 });
}

function npx(project: string, args: string[]) {
  const run = spawnSync('npx', ['--no-install', 'fanout-tuner', ...args], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.skipIf(!required)('the packed package, installed into an empty project', () => {
  it('packs what the CLI needs, installs, and runs --help, a tiny sweep with its report, and the default seed', () => {
    // Made here, not when the file loads: a skipped file runs no cleanup, and would leave it behind.
    const dir = scratchDir('package');
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repoRoot)) as [{ filename: string; files: { path: string }[] }];
    const files = packed[0].files.map((file) => file.path);
    for (const needed of [
      'bin/fanout-tuner.js',
      'scripts/sweep.ts',
      'harness/runtime/clients/bootstrap.py',
      'harness/runtime/clients/bootstrap.mjs',
      'schema/scenario.schema.json',
      'scenarios/seed-case-study.json',
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((file) => file.startsWith('test/') || file.startsWith('.ci/') || file.includes('.venv/'))).toEqual([]);

    const project = join(dir, 'project');
    execFileSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-fanout-tuner', version: '1.0.0', private: true }));
    // The local cache first: the same packages the checkout installed, without a round trip each.
    npm(['install', '--prefer-offline', join(dir, packed[0].filename)], project);

    const help = npx(project, ['--help']);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Commands: sweep, report, recommend');

    writeFileSync(join(project, 'tiny.json'), JSON.stringify(quickScenario({ name: 'tiny' })));
    const sweep = npx(project, [
      'sweep',
      'tiny.json',
      '--concurrency',
      '1',
      '--memory',
      '128',
      '--reps',
      '1',
      '--isolation',
      'none',
      '--cpu-throttle',
      'none',
      '--parallel',
      '1',
    ]);
    expect(sweep.stderr).not.toMatch(/Cannot find|unexpected failure|ERR_/);
    expect(sweep.code).toBe(0);
    const results = loadResults(join(project, 'results', 'tiny.json'));
    expect(results.cells.map((cell) => [cell.concurrency, cell.memoryMb, cell.state])).toEqual([[1, 128, 'completed']]);
    expect(existsSync(join(project, 'reports', 'tiny.html'))).toBe(true);
    expect(readdirSync(join(project, 'reports', 'tiny')).filter((name) => name.endsWith('.svg')).length).toBeGreaterThan(0);

    // No scenario named and none in the project: the seed the package carries.
    const seed = npx(project, ['sweep', '--simulate', '--no-report']);
    expect(seed.stderr).not.toMatch(/unexpected failure|no such scenario/);
    expect(seed.code).toBe(0);
    expect(loadResults(join(project, 'results', 'seed-case-study.simulated.json')).cells).toHaveLength(54);
  }, 120_000);
});
