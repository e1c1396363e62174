import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  'working-directory'?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string | number>;
  jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[] } }; steps: Step[] }>;
}
interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const workflowText = readFileSync('.github/workflows/fanout-compare.yml', 'utf8');
const actionText = readFileSync('action.yml', 'utf8');
const workflow = parse(workflowText) as Workflow;
const action = parse(actionText) as Action;
const packageScripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
const allSteps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const sweepSteps = workflow.jobs.sweep!.steps;
const commands = allSteps
  .flatMap((step) => (step.run ?? '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => /^npm /.test(line));
const step = (steps: Step[], name: string): Step => {
  const found = steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step named "${name}"`);
  return found;
};

/** `uses:` lines as written, with the comment YAML parsing drops. */
function usesLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /^\s*(-\s+)?uses:/.test(line))
    .map((line) => line.replace(/^\s*(-\s+)?uses:\s*/, ''));
}

describe('the fanout-compare workflow', () => {
  it('runs on pull requests, reading the repository only', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(parse(workflowText).permissions).toEqual({ contents: 'read' });
  });

  it('calls only npm ci and the project own npm scripts', () => {
    const scripts = commands.filter((c) => c !== 'npm ci').map((c) => /^npm run (\S+)/.exec(c)?.[1]);
    expect(new Set(scripts)).toEqual(new Set(['ci-plan', 'ci-sweep', 'sweep', 'merge', 'compare', 'report']));
    for (const script of scripts) expect(packageScripts).toContain(script);
    expect(commands.filter((c) => c === 'npm ci')).toHaveLength(3);
  });

  it('passes names from the pull request to the shell as variables, never pasted into a script', () => {
    for (const s of allSteps.filter((s) => s.run)) expect(s.run, s.name).not.toMatch(/\$\{\{\s*(github|inputs|steps)\./);
  });

  it('has as many matrix shards as SHARD_COUNT says', () => {
    expect(workflow.jobs.sweep!.strategy!.matrix.shard).toEqual([1, 2, 3]);
    expect(workflow.env.SHARD_COUNT).toBe(3);
  });

  it('sweeps each shard of base and head with the shard, out, reps, concurrency and memory flags', () => {
    const sweeps = commands.filter((c) => c.startsWith('npm run sweep') || c.startsWith('npm run ci-sweep'));
    expect(sweeps).toHaveLength(2);
    for (const sweep of sweeps) {
      for (const flag of ['--shard "${{ matrix.shard }}/$SHARD_COUNT"', '--reps "$REPS"', '--concurrency "$CONCURRENCY"', '--memory "$MEMORY"', '--out ']) {
        expect(sweep).toContain(flag);
      }
    }
  });

  it('plans before the base is installed, and installs and sweeps the base only when it has the tool', () => {
    const names = sweepSteps.map((s) => s.name ?? s.uses);
    expect(names.indexOf('Install head')).toBeLessThan(names.indexOf('Plan'));
    expect(names.indexOf('Plan')).toBeLessThan(names.indexOf('Install base'));
    const plan = step(sweepSteps, 'Plan');
    expect(plan.id).toBe('plan');
    expect(plan.run).toContain('npm run ci-plan -- --base ../base --scenario "$SCENARIO" --tool base');
    expect(plan.run).toContain('--github-output "$GITHUB_OUTPUT"');
    for (const name of ['Install base', 'Sweep base, shard ${{ matrix.shard }}']) {
      expect(step(sweepSteps, name).if).toBe("steps.plan.outputs.base == 'ready'");
    }
    // The base sweeps the copy of the head's scenario the plan made, falling back to its own.
    const baseSweep = step(sweepSteps, 'Sweep base, shard ${{ matrix.shard }}');
    expect(baseSweep.env).toEqual({
      BASE_SCENARIO: '${{ steps.plan.outputs.base-scenario }}',
      FANOUT_TUNER_COMMIT: '${{ github.event.pull_request.base.sha }}',
      FANOUT_TUNER_BRANCH: '${{ github.event.pull_request.base.ref }}',
    });
    // Each side names itself in its results; GITHUB_SHA is the merge commit for both.
    expect(step(sweepSteps, 'Sweep head, shard ${{ matrix.shard }}').env).toEqual({
      FANOUT_TUNER_COMMIT: '${{ github.event.pull_request.head.sha }}',
      FANOUT_TUNER_BRANCH: '${{ github.head_ref }}',
    });
    expect(baseSweep.run).toContain('npm run ci-sweep -- --dir ../base --scenario "$BASE_SCENARIO" --fallback-scenario "$SCENARIO"');
    // The cache key cannot name the base's lockfile: the first pull request's base has none.
    const setupNode = sweepSteps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
    expect(setupNode.with?.['cache-dependency-path']).toBe('head/package-lock.json');
    expect(String(step(sweepSteps, "Upload the shard's results and notes").with?.path)).toContain('shards/*.md');
  });

  it('merges, compares with the error-rate limit into the job summary, the notes first, and fails on a regression', () => {
    expect(workflow.jobs.compare!.needs).toBe('sweep');
    expect(commands).toContain('npm run merge -- shards/head-*.json --out results/head.json');
    expect(commands).toContain('npm run merge -- shards/base-*.json --out results/base.json');
    expect(step(workflow.jobs.compare!.steps, 'Merge the base shards').if).toBe("hashFiles('shards/base-1.json') != ''");
    expect(commands).toContain(
      'npm run compare -- results/base.json results/head.json --threshold "$THRESHOLD" --max-error-rate "$MAX_ERROR_RATE" --allow-scenario-change --markdown summary.md',
    );
    const compareStep = step(allSteps, 'Compare');
    expect(compareStep.run).toContain('if [ -f results/base.json ]; then');
    const run = compareStep.run!;
    expect(run.indexOf('shards/notes-*.md')).toBeLessThan(run.indexOf('cat summary.md >> "$GITHUB_STEP_SUMMARY"'));
    expect(allSteps.some((s) => s.uses?.startsWith('actions/upload-artifact@') && String(s.with?.path).includes('reports/'))).toBe(true);
    const failStep = step(allSteps, 'Fail on a regression');
    expect(failStep.if).toBe("steps.compare.outputs.status == '1'");
    expect(failStep.run).toContain('exit 1');
    expect(workflow.env.MAX_ERROR_RATE).toBe(0.01);
  });
});

describe('pinning and credentials, in the workflow and the action', () => {
  for (const [file, text, steps] of [
    ['the workflow', workflowText, allSteps],
    ['action.yml', actionText, action.runs.steps],
  ] as const) {
    it(`${file}: every action is pinned to a full commit SHA with its release tag beside it`, () => {
      const lines = usesLines(text);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^actions\/[a-z-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    });

    it(`${file}: every checkout leaves no credentials behind`, () => {
      const checkouts = steps.filter((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkouts.length).toBeGreaterThan(0);
      for (const checkout of checkouts) expect(checkout.with?.['persist-credentials']).toBe(false);
    });
  }

  it('pins one release of each action across both files', () => {
    const byAction = new Map<string, Set<string>>();
    for (const line of [...usesLines(workflowText), ...usesLines(actionText)]) {
      const [name] = line.split('@');
      byAction.set(name!, (byAction.get(name!) ?? new Set()).add(line));
    }
    for (const [name, pins] of byAction) expect([...pins], name).toHaveLength(1);
  });
});

describe('the composite action', () => {
  const steps = action.runs.steps;

  it('is a composite action whose every run step names its shell', () => {
    expect(action.runs.using).toBe('composite');
    for (const s of steps.filter((s) => s.run)) expect(s.shell, s.name).toBe('bash');
  });

  it('takes the scenario and the gate settings as inputs, and gives the status and summary', () => {
    expect(action.inputs.scenario!.required).toBe(true);
    expect(Object.keys(action.inputs)).toEqual(['scenario', 'base-ref', 'threshold', 'max-error-rate', 'reps', 'concurrency', 'memory']);
    expect(action.inputs['base-ref']!.default).toBe('${{ github.event.pull_request.base.sha }}');
    expect(action.outputs.status!.value).toBe('${{ steps.compare.outputs.status }}');
  });

  it("runs only this package's scripts, from its own directory, with one tool for both sides", () => {
    const scripts = steps
      .flatMap((s) => (s.run ?? '').split('\n'))
      .map((line) => /npm --prefix "\$GITHUB_ACTION_PATH" run --silent (\S+)/.exec(line)?.[1])
      .filter((script): script is string => script !== undefined);
    expect(new Set(scripts)).toEqual(new Set(['ci-plan', 'sweep', 'compare']));
    for (const script of scripts) expect(packageScripts).toContain(script);
    expect(step(steps, 'Plan').run).toContain('--tool shared');
    expect(step(steps, 'Install fanout-tuner')['working-directory']).toBe('${{ github.action_path }}');
  });

  it('sweeps the base only when it is ready, and fails on a regression after writing the summary', () => {
    const sweep = step(steps, 'Sweep base and head').run!;
    expect(sweep).toContain('if [ "$BASE_READY" = ready ]; then');
    expect(sweep.indexOf('"$BASE_SCENARIO"')).toBeLessThan(sweep.indexOf('"$HEAD_SCENARIO"'));
    expect(sweep).toContain('FANOUT_TUNER_COMMIT="$BASE_COMMIT" FANOUT_TUNER_BRANCH="$BASE_BRANCH"');
    expect(sweep).toContain('FANOUT_TUNER_COMMIT="$HEAD_COMMIT" FANOUT_TUNER_BRANCH="$HEAD_BRANCH"');
    // Names from the pull request reach the shell as variables, never pasted into the script.
    for (const s of steps.filter((s) => s.run)) expect(s.run, s.name).not.toMatch(/\$\{\{\s*(github|inputs)\./);
    const compare = step(steps, 'Compare').run!;
    expect(compare).toContain('--max-error-rate "$MAX_ERROR_RATE" --allow-scenario-change');
    expect(compare.indexOf('>> "$GITHUB_STEP_SUMMARY"')).toBeLessThan(compare.indexOf('if [ "$status" -ge 2 ]'));
    expect(step(steps, 'Fail on a regression').if).toBe("steps.compare.outputs.status == '1'");
  });
});
