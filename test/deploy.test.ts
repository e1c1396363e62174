import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { applySettings, inferFileKind } from '../harness/deploy/apply.ts';
import { deploymentSettings, formatSettings, timeoutWithHeadroomS, type DeploymentSettings } from '../harness/deploy/settings.ts';
import { cloudFormationTags, editYaml } from '../harness/deploy/yaml-edit.ts';
import { InputError } from '../harness/errors.ts';
import { bareSamTemplate, samTemplate, serverlessYml, tfvars } from './fixtures/deploy.ts';
import { completedCell, results, tinyScenario } from './fixtures/results.ts';
import { globalsTemplate, nodeServerlessYml } from './fixtures/function-template.ts';
import { readTemplateFunction } from '../harness/deploy/template.ts';
import { applyTarget } from '../harness/workload/function-spec.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';
import { scenarioHash } from '../harness/scenario/load.ts';
import { runScript } from './helpers/cli.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const settings: DeploymentSettings = { memoryMb: 1024, architecture: 'x86_64', maxWorkers: 32, timeoutS: 13, p95Ms: 8_100 };

/** Line numbers (1-based) whose text differs; the two texts must have as many lines. */
function changedLines(before: string, after: string): number[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [i + 1]));
}

/** The lines `after` has on top of `before`, when every line of `before` is still there, in order. */
function insertedLines(before: string, after: string): string[] {
  const original = before.split('\n');
  const inserted: string[] = [];
  let next = 0;
  for (const line of after.split('\n')) {
    if (next < original.length && line === original[next]) next++;
    else inserted.push(line);
  }
  expect(next).toBe(original.length);
  return inserted;
}

function comments(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const at = line.search(/(^|\s)(#|\/\/)/);
    return at >= 0 ? [line.slice(at).trim()] : [];
  });
}

describe('timeout with headroom', () => {
  it('is p95 x 1.5 rounded up to the second, at least p95 + 3 s, at most 900 s', () => {
    expect(timeoutWithHeadroomS(8_100)).toBe(13);
    expect(timeoutWithHeadroomS(2_000)).toBe(5);
    expect(timeoutWithHeadroomS(0)).toBe(3);
    expect(timeoutWithHeadroomS(700_000)).toBe(900);
  });

  it('comes from the p95 of the recommended cell', () => {
    expect(deploymentSettings(completedCell(32, 1024, 8_000))).toEqual({ memoryMb: 1024, architecture: 'x86_64', maxWorkers: 32, timeoutS: 13, p95Ms: 8_160 });
  });
});

describe('formatSettings', () => {
  const note = '# fanout-tuner: 32 workers at 1024 MB x86_64; timeout 13 s = max(p95 8100 ms x 1.5, p95 + 3 s), at most 900 s';

  it('writes JSON', () => {
    expect(JSON.parse(formatSettings(settings, 'json'))).toEqual({ memoryMb: 1024, architecture: 'x86_64', maxWorkers: 32, timeoutS: 13 });
  });

  it('writes env lines', () => {
    expect(formatSettings(settings, 'env')).toBe(`${note}\nMAX_WORKERS=32\nLAMBDA_MEMORY_MB=1024\nLAMBDA_ARCHITECTURE=x86_64\nLAMBDA_TIMEOUT_S=13\n`);
  });

  it('writes tfvars', () => {
    expect(formatSettings(settings, 'tfvars')).toBe(`${note}\nmemory_size   = 1024\nmax_workers   = 32\narchitectures = ["x86_64"]\ntimeout       = 13\n`);
  });

  it('writes SAM properties with MAX_WORKERS as a string, as CloudFormation wants', () => {
    const text = formatSettings(settings, 'sam');
    expect(parseDocument(text).toJS()).toEqual({ MemorySize: 1024, Timeout: 13, Architectures: ['x86_64'], Environment: { Variables: { MAX_WORKERS: '32' } } });
  });

  it('writes a serverless functions entry under the given name', () => {
    const text = formatSettings(settings, 'serverless', { functionName: 'scrape' });
    expect(parseDocument(text).toJS()).toEqual({
      functions: { scrape: { memorySize: 1024, timeout: 13, architecture: 'x86_64', environment: { MAX_WORKERS: '32' } } },
    });
  });
});

describe('applySettings on a SAM template', () => {
  it('changes only MemorySize and MAX_WORKERS, keeping every comment and tag', () => {
    const result = applySettings(samTemplate, 'sam', settings, { functionName: 'ScraperFunction' });
    expect(changedLines(samTemplate, result.text)).toEqual([21, 26]);
    const after = result.text.split('\n');
    expect(after[20]).toBe('      MemorySize: 1024 # MB, never measured');
    expect(after[25]).toBe('          MAX_WORKERS: "32"  # picked by hand');
    expect(comments(result.text)).toEqual(comments(samTemplate));
    expect(result.text).toContain("BASE_URL: !Sub 'https://${AWS::Region}.example.com'");
    expect(result.changes).toEqual([
      'Resources.ScraperFunction.Properties.MemorySize: 512 -> 1024',
      'Resources.ScraperFunction.Properties.Environment.Variables.MAX_WORKERS: 60 -> 32',
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('parses CloudFormation short-form tags without warnings and keeps them on a rewrite', () => {
    const doc = parseDocument(samTemplate, { customTags: cloudFormationTags });
    expect(doc.warnings).toEqual([]);
    expect(doc.errors).toEqual([]);
    // toString() re-flows the file (which is why applySettings splices instead), but the tags stay.
    const rewritten = doc.toString();
    expect(rewritten).toContain('- !Join [');
    expect(rewritten).toContain("!Ref 'AWS::Partition',");
    expect(rewritten).toContain('Role: !GetAtt ScraperRole.Arn');
    expect(rewritten).toContain("BASE_URL: !Sub 'https://${AWS::Region}.example.com'");
  });

  it('finds a plain CloudFormation function by its FunctionName and adds the missing keys under it', () => {
    const result = applySettings(samTemplate, 'sam', settings, { functionName: 'daily-report' });
    const doc = parseDocument(result.text, { customTags: cloudFormationTags });
    expect(doc.getIn(['Resources', 'ReportFunction', 'Properties', 'MemorySize'])).toBe(1024);
    expect(doc.getIn(['Resources', 'ReportFunction', 'Properties', 'Environment', 'Variables', 'MAX_WORKERS'])).toBe('32');
    // The Globals timeout does not apply to a plain CloudFormation function: its default is 3 s.
    expect(result.warnings).toEqual([
      'ReportFunction Timeout (default) is 3 s, below the recommended 13 s (p95 8100 ms with headroom); raise it or invocations will time out',
    ]);
    expect(insertedLines(samTemplate, result.text)).toEqual([
      '      MemorySize: 1024',
      '      Environment:',
      '        Variables:',
      '          MAX_WORKERS: "32"',
    ]);
  });

  it("follows the file's own indentation when it adds keys", () => {
    const result = applySettings(bareSamTemplate, 'sam', settings);
    expect(result.text).toBe(`Transform: AWS::Serverless-2016-10-31
Resources:
    Job:   # four-space indentation on purpose
        Type: AWS::Serverless::Function
        Properties:
            Handler: app.handler
            Timeout: 5
            Architectures: [arm64]
            MemorySize: 1024
            Environment:
                Variables:
                    MAX_WORKERS: "32"
# end of resources
`);
    expect(result.warnings).toEqual([
      'Job Timeout is 5 s, below the recommended 13 s (p95 8100 ms with headroom); raise it or invocations will time out',
      'Job Architectures is arm64, but the recommendation was measured and priced for x86_64; change one of them',
    ]);
  });

  it('refuses to choose between several functions when none is named', () => {
    expect(() => applySettings(samTemplate, 'sam', settings, { file: 'template.yaml' })).toThrow(InputError);
    expect(() => applySettings(samTemplate, 'sam', settings, { file: 'template.yaml' })).toThrow(
      'template.yaml: --function: the file defines 2 functions (ScraperFunction, ReportFunction) and none was named. Fix: pass --function ScraperFunction (or another of them)',
    );
  });

  it('refuses a function the template does not define', () => {
    expect(() => applySettings(samTemplate, 'sam', settings, { functionName: 'Nope', file: 't.yaml' })).toThrow(
      't.yaml: --function: no function "Nope"; the file defines ScraperFunction, ReportFunction',
    );
  });

  it('refuses a template without functions, and a file that is not a template', () => {
    expect(() => applySettings('Resources:\n  B:\n    Type: AWS::S3::Bucket\n', 'sam', settings, { file: 't.yaml' })).toThrow(
      't.yaml: Resources: has no Lambda function',
    );
    expect(() => applySettings('a: 1\n', 'sam', settings, { file: 't.yaml' })).toThrow('t.yaml: Resources: missing');
  });

  it('refuses to overwrite a !Ref with a number', () => {
    const text = 'Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      MemorySize: !Ref Memory\n';
    expect(() => applySettings(text, 'sam', settings, { file: 't.yaml' })).toThrow(
      't.yaml: Resources.F.Properties.MemorySize: is !Ref Memory, a reference the tool does not follow',
    );
  });

  it('refuses invalid YAML with the line', () => {
    expect(() => applySettings('Resources:\n  F: [\n', 'sam', settings, { file: 't.yaml' })).toThrow(/^t\.yaml: line \d+: not valid YAML/);
  });
});

describe('applySettings on serverless.yml', () => {
  it('changes only memorySize and MAX_WORKERS, keeping every comment', () => {
    const result = applySettings(serverlessYml, 'serverless', settings, { functionName: 'scrape' });
    expect(changedLines(serverlessYml, result.text)).toEqual([15, 17]);
    const after = result.text.split('\n');
    expect(after[14]).toBe('    memorySize: 1024   # MB');
    expect(after[16]).toBe('      MAX_WORKERS: 32 # threads');
    expect(comments(result.text)).toEqual(comments(serverlessYml));
    expect(result.changes).toEqual(['functions.scrape.memorySize: 512 -> 1024', 'functions.scrape.environment.MAX_WORKERS: 60 -> 32']);
    expect(result.warnings).toEqual([]);
  });

  it('adds the keys to a function that has none, before the next section', () => {
    const result = applySettings(serverlessYml, 'serverless', settings, { functionName: 'report' });
    expect(result.text).toContain(
      '  report:\n    handler: handler.report\n    # default memory\n    events:\n      - schedule: rate(1 day)\n    memorySize: 1024\n    environment:\n      MAX_WORKERS: "32"\n\nresources:\n',
    );
  });

  it('refuses to choose between several functions when none is named, and leaves the text alone', () => {
    expect(() => applySettings(serverlessYml, 'serverless', settings, { file: 'serverless.yml' })).toThrow(
      'serverless.yml: --function: the file defines 2 functions (scrape, report) and none was named',
    );
  });

  it('refuses to replace a Serverless variable', () => {
    const text = 'functions:\n  f:\n    memorySize: ${self:custom.memory}\n';
    expect(() => applySettings(text, 'serverless', settings, { file: 's.yml' })).toThrow(
      's.yml: functions.f.memorySize: is "${self:custom.memory}", a variable the tool does not follow',
    );
  });
});

describe('applySettings on .tfvars', () => {
  it('edits the two lines in place, keeping comments and alignment, and warns about a short timeout', () => {
    const result = applySettings(tfvars, 'tfvars', settings);
    expect(changedLines(tfvars, result.text)).toEqual([3, 7]);
    expect(result.text.split('\n')[2]).toBe('memory_size   = 1024 # MB');
    expect(result.text.split('\n')[6]).toBe('max_workers   = 32   // threads');
    expect(result.text).toContain('/* old values:\nmemory_size = 256\n*/');
    expect(result.changes).toEqual(['memory_size: 512 -> 1024', 'max_workers: 60 -> 32']);
    expect(result.warnings).toEqual(['timeout is 10 s, below the recommended 13 s (p95 8100 ms with headroom); raise it or invocations will time out']);
  });

  it('appends the lines that are missing', () => {
    expect(applySettings('region = "us-east-1"', 'tfvars', settings).text).toBe('region = "us-east-1"\nmemory_size = 1024\nmax_workers = 32\n');
  });

  it('refuses a value set twice and a --function it cannot use', () => {
    expect(() => applySettings('memory_size = 1\nmemory_size = 2\n', 'tfvars', settings, { file: 'x.tfvars' })).toThrow(
      'x.tfvars: memory_size: is set on 2 lines (1, 2)',
    );
    expect(() => applySettings(tfvars, 'tfvars', settings, { functionName: 'f' })).toThrow('--function: does not apply to a .tfvars file');
  });
});

describe('file kinds', () => {
  it('are told from the file name', () => {
    expect(inferFileKind('infra/prod.tfvars')).toBe('tfvars');
    expect(inferFileKind('serverless.yml')).toBe('serverless');
    expect(inferFileKind('app/serverless.prod.yaml')).toBe('serverless');
    expect(inferFileKind('template.yaml')).toBe('sam');
    expect(() => inferFileKind('template.json')).toThrow('template.json: cannot tell what kind of deployment file this is');
  });
});

describe('editYaml', () => {
  it('fills in a key that has no value yet', () => {
    expect(editYaml('a:\n  b:\nc: 1\n', [{ path: ['a', 'b', 'd'], value: 5 }], 'x.yaml')).toBe('a:\n  b:\n    d: 5\nc: 1\n');
    expect(editYaml('a: # later\nc: 1\n', [{ path: ['a'], value: 5 }], 'x.yaml')).toBe('a: 5 # later\nc: 1\n');
  });

  it('refuses a flow-style map it would have to rewrite', () => {
    expect(() => editYaml('a: {}\n', [{ path: ['a', 'b'], value: 1 }], 'x.yaml')).toThrow('x.yaml: a.b: a is empty or written in flow style');
  });
});

describe('editYaml safety', () => {
  it('refuses an edit that would change a value it was not asked to change', () => {
    // b is an alias of a: splicing a new number into a would change b as well.
    expect(() => editYaml('a: &m 512\nb: *m\n', [{ path: ['a'], value: 1024 }], 'x.yaml')).toThrow(
      'x.yaml: cannot set the values in place without changing other values of the file. Fix: set a = 1024 by hand',
    );
  });

  it('keeps the trailing blank line of a |+ block scalar when it adds a key after it', () => {
    const text = 'f:\n  code: |+\n    x\n\ng: 1\n';
    expect(editYaml(text, [{ path: ['f', 'memory'], value: 5 }], 'x.yaml')).toBe('f:\n  code: |+\n    x\n\n  memory: 5\ng: 1\n');
  });

  it('keeps a block scalar intact when it adds keys after it', () => {
    const result = applySettings(samTemplate, 'sam', settings, { functionName: 'ReportFunction' });
    const before = parseDocument(samTemplate, { customTags: cloudFormationTags });
    const after = parseDocument(result.text, { customTags: cloudFormationTags });
    const zip = ['Resources', 'ReportFunction', 'Properties', 'Code', 'ZipFile'];
    expect(after.getIn(zip)).toBe('def handler(event, context):\n    return "ok"   # not a YAML comment\n');
    expect(after.getIn(zip)).toBe(before.getIn(zip));
  });
});

describe('applySettings for a function workload', () => {
  it('sets MemorySize and MAX_WORKERS on the function when only Globals has them, leaving Globals and the other functions alone', () => {
    const result = applySettings(globalsTemplate, 'sam', settings, { functionName: 'ScraperFunction', concurrencyVariable: 'MAX_WORKERS' });
    expect(insertedLines(globalsTemplate, result.text)).toEqual(['          MAX_WORKERS: "32"', '      MemorySize: 1024']);
    expect(comments(result.text)).toEqual(comments(globalsTemplate));
    expect(result.changes).toEqual([
      'Resources.ScraperFunction.Properties.MemorySize: (not set; Globals.Function.MemorySize 128) -> 1024',
      'Resources.ScraperFunction.Properties.Environment.Variables.MAX_WORKERS: (not set; Globals.Function.Environment.Variables.MAX_WORKERS 60) -> 32',
    ]);
    const doc = parseDocument(result.text, { customTags: cloudFormationTags });
    expect(doc.getIn(['Globals', 'Function', 'MemorySize'])).toBe(128);
    expect(doc.getIn(['Globals', 'Function', 'Environment', 'Variables', 'MAX_WORKERS'])).toBe('60');
    expect(doc.getIn(['Resources', 'ReportFunction', 'Properties', 'MemorySize'])).toBe(512);
    // What the function now deploys with, read as resolveFunction reads it.
    const fn = readTemplateFunction(result.text, 'template.yaml', 'ScraperFunction');
    expect(fn.memoryMb).toEqual({ path: 'Resources.ScraperFunction.Properties.MemorySize', value: 1024 });
    expect(fn.environment.MAX_WORKERS).toEqual({ path: 'Resources.ScraperFunction.Properties.Environment.Variables.MAX_WORKERS', value: '32' });
    expect(fn.environment.LOG_LEVEL).toEqual({ path: 'Globals.Function.Environment.Variables.LOG_LEVEL', value: 'info' });
  });

  it("writes the function's own concurrency variable, in the template and in serverless.yml", () => {
    const legacy = applySettings(globalsTemplate, 'sam', settings, { functionName: 'LegacyFunction', concurrencyVariable: 'CONCURRENCY' });
    expect(changedLines(globalsTemplate, legacy.text.replace('      MemorySize: 1024\n', ''))).toEqual([55]);
    expect(legacy.text.split('\n')[54]).toBe('          CONCURRENCY: 32');
    expect(legacy.changes).toEqual([
      'Resources.LegacyFunction.Properties.MemorySize: (not set) -> 1024',
      'Resources.LegacyFunction.Properties.Environment.Variables.CONCURRENCY: 8 -> 32',
    ]);

    const scrape = applySettings(nodeServerlessYml, 'serverless', settings, { functionName: 'scrape', concurrencyVariable: 'CONCURRENCY' });
    expect(insertedLines(nodeServerlessYml.replace('memorySize: 2048', 'memorySize: 1024'), scrape.text)).toEqual(['      CONCURRENCY: "32"']);
    expect(scrape.changes).toEqual([
      'functions.scrape.memorySize: 2048 -> 1024',
      'functions.scrape.environment.CONCURRENCY: (not set; provider.environment.CONCURRENCY 16) -> 32',
    ]);
    expect(comments(scrape.text)).toEqual(comments(nodeServerlessYml));
  });

  it("picks the function and its variable from the results' workload", () => {
    const template = { text: globalsTemplate, file: 'template.yaml', kind: 'sam' as const };
    expect(applyTarget({ template: './template.yaml', function: 'LegacyFunction' }, template, undefined)).toEqual({
      functionName: 'LegacyFunction',
      concurrencyVariable: 'CONCURRENCY',
    });
    expect(applyTarget({ template: './template.yaml', function: 'LegacyFunction' }, template, 'ReportFunction')).toEqual({
      functionName: 'ReportFunction',
      concurrencyVariable: 'MAX_WORKERS',
    });
    expect(applyTarget({ template: './template.yaml', function: 'ScraperFunction', concurrencyVariable: 'THREADS' }, template, undefined)).toEqual({
      functionName: 'ScraperFunction',
      concurrencyVariable: 'THREADS',
    });
    expect(
      applyTarget({ function: { runtime: 'python3.11', handler: 'app.handler', codeUri: '.', environment: { WORKERS: '3' } } }, template, 'InlineFunction'),
    ).toEqual({
      functionName: 'InlineFunction',
      concurrencyVariable: 'WORKERS',
    });
    expect(applyTarget({ module: './handler.ts', export: 'handler' }, template, 'ScraperFunction')).toEqual({
      functionName: 'ScraperFunction',
      concurrencyVariable: undefined,
    });
  });

  it("recommend --apply round trip: the scenario's function by default, its variable, comments kept", () => {
    const dir = mkdtempSync(join(tmpdir(), 'apply-function-'));
    try {
      const file = join(dir, 'template.yaml');
      writeFileSync(file, globalsTemplate);
      const scenario = scenarioSchema.parse({ ...tinyScenario, workload: { template: './template.yaml', function: 'LegacyFunction', event: {} } });
      const resultsFile = join(dir, 'results.json');
      const cells = [completedCell(8, 512, 12_000), completedCell(32, 1024, 8_000)];
      writeFileSync(resultsFile, JSON.stringify(results(cells, { scenario, scenarioHash: scenarioHash(scenario) })));
      const run = runScript('recommend', [resultsFile, '--strategy', 'speed', '--apply', file]);
      expect(run.stderr).toBe(
        `warning: ${file}: LegacyFunction Timeout (default) is 3 s, below the recommended 13 s (p95 8160 ms with headroom); raise it or invocations will time out\n`,
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        `${file}:\n  Resources.LegacyFunction.Properties.MemorySize: (not set) -> 1024\n  Resources.LegacyFunction.Properties.Environment.Variables.CONCURRENCY: 8 -> 32\n`,
      );
      const after = readFileSync(file, 'utf8');
      expect(insertedLines(globalsTemplate.replace('CONCURRENCY: 8', 'CONCURRENCY: 32'), after)).toEqual(['      MemorySize: 1024']);
      expect(comments(after)).toEqual(comments(globalsTemplate));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
