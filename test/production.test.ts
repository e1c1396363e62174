import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { invocationCost } from '../harness/model/pricing.ts';
import { loadResults } from '../harness/results/io.ts';
import { COLD, SNAPSTART, WARM } from './fixtures/production.ts';
import { completedCell, results } from './fixtures/results.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { scratchDir } from './helpers/scratch.ts';

describe('--production on the command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('production');
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results([completedCell(8, 1024, 9900), completedCell(8, 512, 14_000)])));
    writeFileSync(join(dir, 'logs.txt'), [WARM, COLD, SNAPSTART].join('\n'));
    writeFileSync(join(dir, 'empty.txt'), 'START RequestId: x\nEND RequestId: x\n');
  });

  it('gives exit 2 naming a file without a REPORT record, before the sweep and in the report', () => {
    const empty = join(dir, 'empty.txt');
    const sweep = runScript('sweep', [
      'scenarios/small-fast.json',
      '--simulate',
      '--no-report',
      '--out',
      join(dir, 'never.json'),
      '--production',
      empty,
      '--current',
      '1x128',
    ]);
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toBe(
      `error: ${empty}: --production: holds no REPORT record (neither a "REPORT RequestId: ..." line nor a "platform.report" event). Fix: export the function's log group with its REPORT lines, e.g. aws logs filter-log-events --log-group-name /aws/lambda/NAME --filter-pattern '"REPORT RequestId"' > logs.json\n`,
    );
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
    const report = runScript('report', [join(dir, 'results.json'), '--out', join(dir, 'r.html'), '--production', empty, '--current', '8x1024']);
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/^error: .*empty\.txt: --production: holds no REPORT record/);
    expect(hasStackTrace(report.stderr)).toBe(false);
    expect(existsSync(join(dir, 'r.html'))).toBe(false);
  });

  it("refuses a today's setting the sweep did not measure", () => {
    const report = runScript('report', [join(dir, 'results.json'), '--out', join(dir, 'r.html'), '--production', join(dir, 'logs.txt'), '--current', '4x1024']);
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/results\.json: cells: today's setting, 4 workers at 1024 MB, was not measured in this sweep/);
    const sweep = runScript('sweep', [
      'scenarios/small-fast.json',
      '--simulate',
      '--no-report',
      '--out',
      join(dir, 'never.json'),
      '--production',
      join(dir, 'logs.txt'),
      '--current',
      '3x1024',
    ]);
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toMatch(/today's setting, 3 workers at 1024 MB, is not in the sweep's grid.*Fix: add 3 to --concurrency and 1024 to --memory/);
  });

  it("takes today's setting of a deployed function from its template, and refuses logs of another memory size, naming the template", () => {
    const project = join(dir, 'deployed');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'app.mjs'), 'export const handler = async () => ({ ok: true });\n');
    writeFileSync(
      join(project, 'template.yaml'),
      `Resources:
  Job:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: app.handler
      CodeUri: src/
      MemorySize: 512
      Environment:
        Variables:
          MAX_WORKERS: "8"
`,
    );
    const scenario = join(project, 'scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'deployed',
        seed: 1,
        requests: [{ host: 'a.example', count: 2 }],
        hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 10 } } },
        workload: { template: 'template.yaml', function: 'Job' },
        sweep: { concurrency: [1, 2], memoryMb: [512, 1024], reps: 1, timeScale: 1 },
      }),
    );
    // The logs ran at 1024 MB, the template says 512: the template is named, before any cell runs.
    const mismatch = runScript('sweep', [scenario, '--no-report', '--out', join(dir, 'never.json'), '--production', join(dir, 'logs.txt')]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toBe(
      `error: ${join(project, 'template.yaml')}: says 512 MB, but the REPORT records of ${join(dir, 'logs.txt')} ran at 1024 MB. Fix: pass --current 8x1024 to compare at the size the logs were measured at\n`,
    );
    // At 512 MB, as the template says: today's 8 workers are not in the grid.
    const at512 = join(dir, 'logs-512.txt');
    writeFileSync(at512, WARM.replace('Memory Size: 1024 MB', 'Memory Size: 512 MB'));
    const outside = runScript('sweep', [scenario, '--no-report', '--out', join(dir, 'never.json'), '--production', at512]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/today's setting, 8 workers at 512 MB, is not in the sweep's grid.*Fix: add 8 to --concurrency\n$/);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });

  it('reads the logs from stdin into the report, and the sweep writes the block into its results', () => {
    const logs = readFileSync(join(dir, 'logs.txt'), 'utf8');
    const report = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/report.ts', join(dir, 'results.json'), '--out', join(dir, 'r.html'), '--production', '-', '--current', '8x1024'],
      { input: logs, encoding: 'utf8' },
    );
    expect(report.stderr).toBe('');
    expect(report.status).toBe(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('**Production** (stdin): 3 invocations at 8 workers at 1024 MB');
    expect(existsSync(join(dir, 'r', 'production.svg'))).toBe(true);

    const out = join(dir, 'swept.json');
    const sweep = runScript('sweep', [
      'scenarios/small-fast.json',
      '--simulate',
      '--memory',
      '1024',
      '--concurrency',
      '1,8',
      '--no-report',
      '--out',
      out,
      '--production',
      join(dir, 'logs.txt'),
      '--current',
      '8x1024',
    ]);
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toMatch(/^production: 3 invocations at 8 workers at 1024 MB: median 7\.8 s, p95 8\.0 s, 67% cold starts \(INIT 263 ms\)/m);
    const swept = loadResults(out);
    expect(swept.production).toMatchObject({
      source: join(dir, 'logs.txt'),
      concurrency: 8,
      memoryMb: 1024,
      invocations: 3,
      coldStartRate: 2 / 3,
      maxMemoryUsedMb: 130,
    });
    // The SnapStart restore counts with its Billed Restore Duration (190 ms), not its Restore Duration.
    expect(swept.production!.initDurationMs).toBeCloseTo((335.21 + 190) / 2, 9);
    expect(swept.method.notes.at(-1)).toMatch(/^Costs include INIT: 263 ms on 67% of invocations/);

    // A real sweep bills the same INIT into its measured cells.
    const realOut = join(dir, 'real.json');
    const real = runScript('sweep', [
      'scenarios/small-fast.json',
      '--memory',
      '1024',
      '--concurrency',
      '8',
      '--reps',
      '1',
      '--isolation',
      'none',
      '--no-report',
      '--out',
      realOut,
      '--production',
      join(dir, 'logs.txt'),
      '--current',
      '8x1024',
    ]);
    expect(real.code).toBe(0);
    const measured = loadResults(realOut).cells[0]!;
    if (measured.state !== 'completed') throw new Error(`the cell did not complete: ${measured.state}`);
    expect(measured.costUsd).toEqual(
      invocationCost({
        billedMs: measured.billedMs,
        memoryMb: 1024,
        architecture: 'x86_64',
        invocationsPerMonth: 100_000,
        initMs: swept.production!.initDurationMs!,
        coldStartRate: 2 / 3,
      }),
    );
    expect(measured.costUsd.perInvocation).toBeGreaterThan(
      invocationCost({ billedMs: measured.billedMs, memoryMb: 1024, architecture: 'x86_64', invocationsPerMonth: 100_000 }).perInvocation,
    );

    // The report reads today's concurrency from the sweep's own block when no --current is given.
    const again = runScript('report', [out, '--out', join(dir, 'again.html'), '--production', join(dir, 'logs.txt')]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'again.md'), 'utf8')).toMatch(/\*\*Production\*\* \(.*logs\.txt\): 3 invocations at 8 workers at 1024 MB/);
  });
});
