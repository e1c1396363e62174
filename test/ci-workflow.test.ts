import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string | number>;
  jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[] } }; steps: Step[] }>;
}

const workflow = parse(readFileSync('.github/workflows/fanout-compare.yml', 'utf8')) as Workflow;
const packageScripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
const allSteps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const commands = allSteps
  .flatMap((step) => (step.run ?? '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => /^npm /.test(line));

describe('the fanout-compare workflow', () => {
  it('runs on pull requests', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
  });

  it('calls only npm ci and the project own npm scripts', () => {
    const scripts = commands.filter((c) => c !== 'npm ci').map((c) => /^npm run (\S+)/.exec(c)?.[1]);
    expect(new Set(scripts)).toEqual(new Set(['sweep', 'merge', 'compare', 'report']));
    for (const script of scripts) expect(packageScripts).toContain(script);
    expect(commands.filter((c) => c === 'npm ci')).toHaveLength(3);
  });

  it('has as many matrix shards as SHARD_COUNT says', () => {
    expect(workflow.jobs.sweep!.strategy!.matrix.shard).toEqual([1, 2, 3]);
    expect(workflow.env.SHARD_COUNT).toBe(3);
  });

  it('sweeps each shard of base and head with the shard, out, reps, concurrency and memory flags', () => {
    const sweeps = commands.filter((c) => c.startsWith('npm run sweep'));
    expect(sweeps).toHaveLength(2);
    for (const sweep of sweeps) {
      for (const flag of ['--shard "${{ matrix.shard }}/$SHARD_COUNT"', '--reps "$REPS"', '--concurrency "$CONCURRENCY"', '--memory "$MEMORY"', '--out ']) {
        expect(sweep).toContain(flag);
      }
    }
  });

  it('merges, compares into the job summary, uploads the report and fails on a regression', () => {
    expect(workflow.jobs.compare!.needs).toBe('sweep');
    expect(commands).toContain('npm run merge -- shards/base-*.json --out results/base.json');
    expect(commands).toContain('npm run merge -- shards/head-*.json --out results/head.json');
    expect(commands).toContain(
      'npm run compare -- results/base.json results/head.json --threshold "$THRESHOLD" --markdown summary.md',
    );
    const compareStep = allSteps.find((s) => s.name === 'Compare')!;
    expect(compareStep.run).toContain('cat summary.md >> "$GITHUB_STEP_SUMMARY"');
    expect(allSteps.some((s) => s.uses === 'actions/upload-artifact@v4' && String(s.with?.path).includes('reports/'))).toBe(true);
    const failStep = allSteps.find((s) => s.name === 'Fail on a regression')!;
    expect(failStep.if).toBe("steps.compare.outputs.status == '1'");
    expect(failStep.run).toContain('exit 1');
  });
});
