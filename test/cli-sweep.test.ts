import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

const dir = scratchDir('cli');
const out = join(dir, 'out.json');

function expectRefused(args: string[], message: RegExp): void {
  const run = runScript('sweep', [...args, '--out', out], { timeoutMs: 30_000 });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(hasStackTrace(run.stderr)).toBe(false);
  expect(
    run.stderr
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('(')),
  ).toHaveLength(1);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.startsWith('out'))).toEqual([]);
}

describe('the sweep command refuses bad input with exit 2, one line and no output', () => {
  it('a missing scenario file', () => {
    expectRefused(['scenarios/nope.json'], /scenarios\/nope\.json: no such scenario file\. Fix: check the path/);
  });

  it('a scenario that is not JSON', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": "x", ');
    expectRefused([file], /broken\.json: not valid JSON/);
  });

  it('a scenario that breaks the schema, naming the field', () => {
    const file = join(dir, 'invalid.json');
    writeFileSync(file, JSON.stringify({ name: 'x', seed: 1, requests: [{ host: 'a.example', count: 0 }], hosts: {} }));
    expectRefused([file], /invalid\.json: requests\[0\]\.count: .*Fix: see schema\/scenario\.schema\.json/);
  });

  it('an unknown flag', () => {
    expectRefused(['--concurency', '4'], /unknown option '--concurency'/);
  });

  it('a concurrency that is not a positive whole number', () => {
    expectRefused(['scenarios/small-fast.json', '--concurrency', '1,0,x'], /--concurrency: "0" is not a whole number from 1 to 10000/);
  });

  it('a memory size Lambda does not offer', () => {
    expectRefused(['scenarios/small-fast.json', '--memory', '64'], /--memory: "64" is not a whole number from 128 to 10240/);
  });

  it('race flags out of range, and a race asked of a shard', () => {
    expectRefused(['scenarios/small-fast.json', '--equivalence', '60%'], /--equivalence: "60" is not a number from 0 to 50/);
    expectRefused(['scenarios/small-fast.json', '--budget', '0'], /--budget: "0" is not a number from 1 to 86400/);
    expectRefused(['scenarios/small-fast.json', '--reps', 'many'], /--reps: "many" is not a whole number from 1 to 100\b/);
    expectRefused(
      ['scenarios/small-fast.json', '--reps', 'auto', '--shard', '1/2'],
      /--reps: auto races the cells of the whole grid, which a shard does not see/,
    );
  });

  it('prints its usage with --help and exits 0', () => {
    const run = runScript('sweep', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: sweep \[options\] \[scenario\]/);
    expect(run.stdout).toContain('--concurrency <list>');
  });
});

describe('the fanout-tuner bin', () => {
  it('runs a subcommand and refuses an unknown one with exit 2', () => {
    const help = spawnSync(process.execPath, ['bin/fanout-tuner.js', 'sweep', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: sweep [options] [scenario]');
    const importHelp = spawnSync(process.execPath, ['bin/fanout-tuner.js', 'import-power-tuning', '--help'], { encoding: 'utf8' });
    expect(importHelp.stdout).toContain('Usage: import-power-tuning [options] <output>');
    const unknown = spawnSync(process.execPath, ['bin/fanout-tuner.js', 'swep'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(
      'error: unknown command "swep". Fix: use one of sweep, report, recommend, compare, merge, import-har, import-power-tuning, record, bench\n',
    );
  });
});

describe('the sweep command with --backend', () => {
  it('runs the job with undici.request on the undici backend and records it in the method', () => {
    const file = join(dir, 'undici.json');
    const run = runScript('sweep', ['scenarios/small-fast.json', '--backend', 'undici', '--concurrency', '4', '--reps', '1', '--no-report', '--out', file]);
    expect(run.code).toBe(0);
    const results = JSON.parse(readFileSync(file, 'utf8')) as {
      method: { backend: string };
      scenario: { client: { library: string } };
      cells: Array<{ state: string }>;
    };
    expect(results.method.backend).toBe('undici');
    expect(results.scenario.client.library).toBe('undici');
    expect(results.cells.map((cell) => cell.state)).toEqual(['completed']);
  });

  it('refuses a backend it does not know', () => {
    expectRefused(['scenarios/small-fast.json', '--backend', 'nock'], /--backend.*nock.*msw, undici/);
  });
});
