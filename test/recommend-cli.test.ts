import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samTemplate, serverlessYml } from './fixtures/deploy.ts';
import { completedCell, failedCell, results } from './fixtures/results.ts';

const repoRoot = new URL('..', import.meta.url).pathname;
let dir: string;
let resultsFile: string;

function cost(perMonth: number) {
  return { costUsd: { perInvocation: perMonth / 8640, perMonth } };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'recommend-cli-'));
  resultsFile = join(dir, 'results.json');
  const cells = [
    completedCell(8, 512, 12_000, cost(0.9)),
    completedCell(32, 512, 9_000, cost(0.7)),
    completedCell(32, 1024, 8_000, cost(1.2)),
    completedCell(64, 1024, 7_800, cost(1.18)),
    failedCell(64, 128, 'oom', 'JavaScript heap out of memory'),
  ];
  writeFileSync(resultsFile, JSON.stringify(results(cells)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/recommend.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** The same, without blocking: the bad-input cases run side by side. */
function runAsync(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/recommend.ts', ...args], { cwd: repoRoot, encoding: 'utf8' }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

describe('npm run recommend', () => {
  it('prints the recommendation and why, exit 0', () => {
    const { code, stdout, stderr } = run(resultsFile);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      'Recommended (cost): MAX_WORKERS=32, 512 MB x86_64, timeout 14 s\n' +
        '32 workers at 512 MB (x86_64): median 9.0 s, p95 9.2 s, $0.70/month, the cheapest of 4 feasible settings (1 of 5 excluded: 1 ran out of memory). ' +
        '22% cheaper than the runner-up (8 workers at 512 MB: 12.0 s, $0.90/month). No other feasible setting came within 10% of it. ' +
        'At 512 MB, 32 workers is the fastest (9.0 s) and every lower concurrency is more than 5% slower.\n',
    );
  });

  it('prints the settings in a deployment format', () => {
    const { code, stdout } = run(resultsFile, '--strategy', 'speed', '--format', 'tfvars');
    expect(code).toBe(0);
    expect(stdout).toBe(
      '# fanout-tuner: 64 workers at 1024 MB x86_64; timeout 12 s = max(p95 7956 ms x 1.5, p95 + 3 s), at most 900 s\n' +
        'memory_size   = 1024\nmax_workers   = 64\narchitectures = ["x86_64"]\ntimeout       = 12\n',
    );
  });

  it('writes the settings into serverless.yml, changing two lines', () => {
    const file = join(dir, 'serverless.yml');
    writeFileSync(file, serverlessYml);
    const { code, stdout } = run(resultsFile, '--apply', file, '--function', 'scrape');
    expect(code).toBe(0);
    expect(stdout).toBe(`${file}:\n  functions.scrape.memorySize: 512 (unchanged)\n  functions.scrape.environment.MAX_WORKERS: 60 -> 32\n`);
    const before = serverlessYml.split('\n');
    const after = readFileSync(file, 'utf8').split('\n');
    expect(after.length).toBe(before.length);
    expect(after.filter((line, i) => line !== before[i])).toEqual(['      MAX_WORKERS: 32 # threads']);
  });

  it('writes through a symbolic link into the file it points to, keeping the link and the file mode', () => {
    const real = join(dir, 'infra', 'serverless.yml');
    mkdirSync(join(dir, 'infra'), { recursive: true });
    writeFileSync(real, serverlessYml);
    chmodSync(real, 0o640);
    mkdirSync(join(dir, 'deploy'));
    const link = join(dir, 'deploy', 'serverless.yml');
    symlinkSync(join('..', 'infra', 'serverless.yml'), link);
    const { code, stderr } = run(resultsFile, '--apply', link, '--function', 'scrape');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toContain('MAX_WORKERS: 32 # threads');
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, 'infra'))).toEqual(['serverless.yml']);
  });

  it('leaves an ambiguous template byte-identical and exits 2 naming --function', () => {
    const file = join(dir, 'template.yaml');
    writeFileSync(file, samTemplate);
    const { code, stdout, stderr } = run(resultsFile, '--apply', file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `error: ${file}: --function: the file defines 2 functions (ScraperFunction, ReportFunction) and none was named. Fix: pass --function ScraperFunction (or another of them)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(samTemplate);
  });

  it('exits 1 naming the binding constraint when nothing is feasible, and writes nothing', () => {
    const file = join(dir, 'untouched.yaml');
    writeFileSync(file, samTemplate);
    const { code, stdout, stderr } = run(resultsFile, '--max-p95-ms', '5000', '--apply', file, '--function', 'ScraperFunction');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${resultsFile}: no feasible setting among 5 cells: 4 over the p95 limit (--max-p95-ms 5000); the lowest p95 was 7956 ms; raise --max-p95-ms to at least 7956 (also: 1 ran out of memory)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(samTemplate);
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [[join(dir, 'missing.json')], /missing\.json: no such results file\. Fix: check the path/],
      [[resultsFile, '--strategy', 'balanced', '--weight', 'abc'], /--weight: "abc" is not a number/],
      [[resultsFile, '--nope'], /unknown option '--nope'/],
      [[resultsFile, '--apply', join(dir, 'main.tf')], /main\.tf: cannot tell what kind of deployment file this is/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => runAsync(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const { code, stderr } = outcomes[i]!;
      expect({ args, code, lines: stderr.trimEnd().split('\n').length }).toEqual({ args, code: 2, lines: 1 });
      expect(stderr).toMatch(message);
    }
  });

  it('explains itself with --help', () => {
    const { code, stdout } = run('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('--strategy <name>');
    expect(stdout).toContain('--apply <file>');
  });
});
