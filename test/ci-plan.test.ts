import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runScript } from './helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'fanout-ci-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SCENARIO = 'scenarios/job.json';
let checkouts = 0;

/** A checkout with the given files (path -> content). */
function checkout(files: Record<string, string>): string {
  const dir = join(root, `checkout-${++checkouts}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const TOOL = { 'package.json': JSON.stringify({ scripts: { sweep: 'node sweep.js' } }), 'package-lock.json': '{}' };
const headScenario = '{ "name": "job", "seed": 2 }\n';

function plan(base: string, head: string, ...extra: string[]) {
  const notes = join(root, `notes-${checkouts}.md`);
  const output = join(root, `output-${checkouts}`);
  const run = runScript('ci-plan', ['--base', base, '--head', head, '--scenario', SCENARIO, '--notes', notes, '--github-output', output, ...extra]);
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return { ...run, notes: read(notes), output: read(output) };
}

describe('npm run ci-plan', () => {
  it('passes the pull request that sets the tool up: a base without lockfile or sweep script is "missing", with a note', () => {
    const head = checkout({ ...TOOL, [SCENARIO]: headScenario });
    const run = plan(checkout({ 'README.md': 'no tool yet' }), head);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`base=missing\nhead-scenario=${join(head, SCENARIO)}\n`);
    expect(run.output).toBe(run.stdout);
    expect(run.notes).toBe(
      '**Nothing to compare with:** the base has no "sweep" script in package.json and no package-lock.json, so this pull request is the one ' +
        'that sets fanout-tuner up. The head was swept alone; its results and report are in the artifact, and the next pull request is compared.\n\n',
    );
  });

  it('with one tool for both sides, calls a base without the scenario file missing', () => {
    const run = plan(checkout({ 'src/handler.js': '' }), checkout({ [SCENARIO]: headScenario }), '--tool', 'shared');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^base=missing\n/);
    expect(run.notes).toContain('the base has no scenarios/job.json, so this pull request is the one that sets fanout-tuner up');
  });

  it("sweeps both sides on the head's scenario when the pull request edits it: a copy beside the base's, and a note", () => {
    const base = checkout({ ...TOOL, [SCENARIO]: '{ "name": "job", "seed": 1 }\n' });
    const head = checkout({ ...TOOL, [SCENARIO]: headScenario });
    const run = plan(base, head);
    expect(run.code).toBe(0);
    const copy = join(base, 'scenarios', '.fanout-tuner-head-job.json');
    expect(run.stdout).toBe(`base=ready\nhead-scenario=${join(head, SCENARIO)}\nbase-scenario=${copy}\n`);
    expect(readFileSync(copy, 'utf8')).toBe(headScenario);
    // The base's own file is left as it was.
    expect(readFileSync(join(base, SCENARIO), 'utf8')).toBe('{ "name": "job", "seed": 1 }\n');
    expect(run.notes).toBe(
      "This pull request edits scenarios/job.json: both sides were swept with the head's version of it, so the comparison shows what the code changes, not the edit.\n\n",
    );
  });

  it('says so when the base has the tool but not the scenario, and writes no note when the file is unchanged', () => {
    const added = plan(checkout(TOOL), checkout({ ...TOOL, [SCENARIO]: headScenario }));
    expect(added.stdout).toMatch(/^base=ready\n/);
    expect(added.notes).toBe("The base has no scenarios/job.json: both sides were swept with the head's.\n\n");
    const same = plan(checkout({ ...TOOL, [SCENARIO]: headScenario }), checkout({ ...TOOL, [SCENARIO]: headScenario }));
    expect(same.stdout).toMatch(/^base=ready\n/);
    expect(same.notes).toBe('');
  });

  it('refuses, exit 2 in one line, a head without the scenario file and a copy it did not write', () => {
    const noScenario = plan(checkout(TOOL), checkout(TOOL));
    expect(noScenario.code).toBe(2);
    expect(noScenario.stderr).toMatch(/^error: .*scenarios\/job\.json: --scenario: the head has no such scenario file\. Fix: /);
    expect(hasStackTrace(noScenario.stderr)).toBe(false);

    const base = checkout({ ...TOOL, 'scenarios/.fanout-tuner-head-job.json': "someone else's" });
    const foreign = plan(base, checkout({ ...TOOL, [SCENARIO]: headScenario }));
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("exists and is not a copy of the head's scenario file");
    expect(readFileSync(join(base, 'scenarios/.fanout-tuner-head-job.json'), 'utf8')).toBe("someone else's");
  });
});

describe('npm run ci-sweep', () => {
  /** A base whose "sweep" refuses the head's copy (exit 2), as a base that lacks a new field would. */
  function baseRefusingHeadScenario(): string {
    return checkout({
      'package.json': JSON.stringify({ scripts: { sweep: 'node sweep.mjs' } }),
      'sweep.mjs': [
        "import { writeFileSync } from 'node:fs';",
        'const [scenario, ...rest] = process.argv.slice(2);',
        "if (scenario.includes('.fanout-tuner-head-')) { console.error('error: unknown field'); process.exit(2); }",
        "writeFileSync('swept.txt', [scenario, ...rest].join(' '));",
      ].join('\n'),
      [SCENARIO]: '{}',
      'scenarios/.fanout-tuner-head-job.json': '{}',
    });
  }

  it("sweeps the base's own scenario file when its tool cannot read the head's, and notes it", () => {
    const base = baseRefusingHeadScenario();
    const notes = join(root, 'sweep-notes.md');
    const run = runScript('ci-sweep', [
      '--dir',
      base,
      '--scenario',
      join(base, 'scenarios/.fanout-tuner-head-job.json'),
      '--fallback-scenario',
      SCENARIO,
      '--notes',
      notes,
      '--',
      '--reps',
      '3',
      '--out',
      'x.json',
    ]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(base, 'swept.txt'), 'utf8')).toBe('scenarios/job.json --reps 3 --out x.json');
    expect(readFileSync(notes, 'utf8')).toBe(
      "The base's fanout-tuner cannot read the head's scenarios/job.json (bad input, likely a field this pull request adds), " +
        'so the base was swept with its own version of the file: part of any difference may come from the scenario.\n\n',
    );
  });

  it("sweeps the head's copy when the base reads it, and writes no note", () => {
    const base = checkout({
      'package.json': JSON.stringify({ scripts: { sweep: 'node sweep.mjs' } }),
      'sweep.mjs': "import { writeFileSync } from 'node:fs'; writeFileSync('swept.txt', process.argv.slice(2).join(' '));",
    });
    const notes = join(root, 'no-notes.md');
    const copy = join(base, 'scenarios/.fanout-tuner-head-job.json');
    const run = runScript('ci-sweep', ['--dir', base, '--scenario', copy, '--fallback-scenario', SCENARIO, '--notes', notes, '--', '--reps', '3']);
    expect(run.code).toBe(0);
    expect(readFileSync(join(base, 'swept.txt'), 'utf8')).toBe(`${copy} --reps 3`);
    expect(() => readFileSync(notes)).toThrow();
  });
});

describe('the side a sweep names in its results', () => {
  it('is FANOUT_TUNER_COMMIT and FANOUT_TUNER_BRANCH when set, before GITHUB_SHA, which CI shares between base and head', async () => {
    const { describeEnvironment } = await import('../harness/results/environment.ts');
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { GITHUB_SHA: 'merge', GITHUB_HEAD_REF: 'feature', FANOUT_TUNER_COMMIT: 'base-sha', FANOUT_TUNER_BRANCH: 'main' });
      expect(describeEnvironment()).toMatchObject({ commit: 'base-sha', branch: 'main' });
      delete process.env.FANOUT_TUNER_COMMIT;
      delete process.env.FANOUT_TUNER_BRANCH;
      expect(describeEnvironment()).toMatchObject({ commit: 'merge', branch: 'feature' });
    } finally {
      for (const key of ['GITHUB_SHA', 'GITHUB_HEAD_REF', 'FANOUT_TUNER_COMMIT', 'FANOUT_TUNER_BRANCH']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});
