import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTemplateFunction } from '../harness/deploy/template.ts';
import { InputError } from '../harness/errors.ts';
import { loadScenario } from '../harness/scenario/load.ts';
import { concurrencyVariableOf, resolveFunction, type FunctionSpec } from '../harness/workload/function-spec.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { globalsTemplate, makeProject, type Project } from './fixtures/function-template.ts';

let project: Project;
let dir: string;
/** PATH with only the project's fake python3.11. */
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  project = makeProject();
  dir = project.dir;
  env = { PATH: join(dir, 'bin') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resolveWorkload(workload: unknown): FunctionSpec {
  const file = project.scenario(workload);
  return resolveFunction(loadScenario(file), file, { env });
}

/** The InputError message resolving the workload throws. */
function failure(workload: unknown): string {
  try {
    resolveWorkload(workload);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('resolveFunction from a SAM template with Globals', () => {
  it("merges Globals under the function, variables key by key, with the scenario's on top", () => {
    expect(
      resolveWorkload({ template: './template.yaml', function: 'ScraperFunction', environment: { TABLE: 'pages' }, event: './events/scheduled.json' }),
    ).toEqual({
      runtime: 'python3.11',
      language: 'python',
      handler: 'app.lambda_handler',
      handlerModule: join(dir, 'src/app.py'),
      handlerFunction: 'lambda_handler',
      codeDir: join(dir, 'src'),
      event: { source: 'aws.events', detail: { pages: 2 } },
      environment: { MAX_WORKERS: '60', LOG_LEVEL: 'info', BASE_URL: 'https://news.example', TABLE: 'pages' },
      concurrencyVariable: 'MAX_WORKERS',
      timeoutS: 30,
      interpreter: join(dir, 'bin/python3.11'),
      source: { template: join(dir, 'template.yaml'), logicalId: 'ScraperFunction' },
      current: { memoryMb: 128, concurrency: 60 },
    });
  });

  it('lets function-level settings win, finds a dotted package module, and accepts the FunctionName', () => {
    expect(resolveWorkload({ template: './template.yaml', function: 'daily-report' })).toEqual({
      runtime: 'python3.11',
      language: 'python',
      handler: 'reports.daily.handler',
      handlerModule: join(dir, 'src/reports/daily.py'),
      handlerFunction: 'handler',
      codeDir: join(dir, 'src'),
      event: {},
      environment: { MAX_WORKERS: '4', LOG_LEVEL: 'info' },
      concurrencyVariable: 'MAX_WORKERS',
      timeoutS: 300,
      interpreter: join(dir, 'bin/python3.11'),
      source: { template: join(dir, 'template.yaml'), logicalId: 'ReportFunction' },
      current: { memoryMb: 512, concurrency: 4 },
    });
  });

  it("reads a plain CloudFormation function with local Code, without Globals, at Lambda's defaults", () => {
    expect(resolveWorkload({ template: './template.yaml', function: 'LegacyFunction' })).toEqual({
      runtime: 'nodejs20.x',
      language: 'node',
      handler: 'lib/index.handler',
      handlerModule: join(dir, 'node-src/lib/index.js'),
      handlerFunction: 'handler',
      codeDir: join(dir, 'node-src'),
      event: {},
      environment: { CONCURRENCY: '8' },
      concurrencyVariable: 'CONCURRENCY',
      timeoutS: 3,
      interpreter: process.execPath,
      source: { template: join(dir, 'template.yaml'), logicalId: 'LegacyFunction' },
      current: { memoryMb: 128, concurrency: 8 },
    });
  });

  it("uses the scenario's concurrencyVariable over the usual names", () => {
    const spec = resolveWorkload({
      template: './template.yaml',
      function: 'ScraperFunction',
      environment: { TABLE: 'pages', THREADS: '12' },
      concurrencyVariable: 'THREADS',
    });
    expect(spec.concurrencyVariable).toBe('THREADS');
    expect(spec.current).toEqual({ memoryMb: 128, concurrency: 12 });
  });
});

describe('resolveFunction from serverless.yml', () => {
  it('merges provider settings under the function; the code is the service directory', () => {
    expect(
      resolveWorkload({ template: './serverless.yml', function: 'scrape', environment: { DB_URL: 'postgres://db.internal/scraper' }, event: { pages: 1 } }),
    ).toEqual({
      runtime: 'nodejs20.x',
      language: 'node',
      handler: 'src/handler.scrape',
      handlerModule: join(dir, 'src/handler.mjs'),
      handlerFunction: 'scrape',
      codeDir: dir,
      event: { pages: 1 },
      environment: { CONCURRENCY: '16', STAGE: 'prod', TABLE: 'pages', DB_URL: 'postgres://db.internal/scraper' },
      concurrencyVariable: 'CONCURRENCY',
      timeoutS: 60,
      interpreter: process.execPath,
      source: { template: join(dir, 'serverless.yml'), logicalId: 'scrape' },
      current: { memoryMb: 2048, concurrency: 16 },
    });
  });

  it('refuses a ${...} variable the scenario does not set', () => {
    expect(failure({ template: './serverless.yml', function: 'scrape' })).toBe(
      `${dir}/serverless.yml: functions.scrape.environment.DB_URL: is \${ssm:/scraper/db-url}, which the tool cannot evaluate. ` +
        `Fix: set its value under workload.environment in ${dir}/scenario.json, e.g. "environment": { "DB_URL": "..." }`,
    );
  });
});

describe('resolveFunction from the scenario alone', () => {
  it('resolves paths from the scenario file, the interpreter included', () => {
    expect(
      resolveWorkload({
        function: {
          runtime: 'python3.11',
          handler: 'app.lambda_handler',
          codeUri: './src',
          event: { pages: 3 },
          environment: { TABLE: 'pages', WORKERS: '10' },
          python: './bin/python3.11',
        },
      }),
    ).toEqual({
      runtime: 'python3.11',
      language: 'python',
      handler: 'app.lambda_handler',
      handlerModule: join(dir, 'src/app.py'),
      handlerFunction: 'lambda_handler',
      codeDir: join(dir, 'src'),
      event: { pages: 3 },
      environment: { TABLE: 'pages', WORKERS: '10' },
      concurrencyVariable: 'WORKERS',
      timeoutS: 900,
      interpreter: join(dir, 'bin/python3.11'),
      source: {},
      current: { concurrency: 10 },
    });
  });

  it('has no concurrency variable when the environment has none of the usual names', () => {
    const spec = resolveWorkload({ function: { runtime: 'nodejs22.x', handler: 'handler.scrape', codeUri: 'src' } });
    expect(spec.concurrencyVariable).toBeUndefined();
    expect(spec.current).toBeUndefined();
    expect(spec.handlerModule).toBe(join(dir, 'src/handler.mjs'));
  });

  it("runs a custom runtime's executable bootstrap", () => {
    project.write('go/bootstrap', '#!/bin/sh\n', 0o755);
    const spec = resolveWorkload({ function: { runtime: 'provided.al2023', handler: 'bootstrap', codeUri: './go' } });
    expect(spec).toMatchObject({
      language: 'custom',
      handlerModule: join(dir, 'go/bootstrap'),
      handlerFunction: 'bootstrap',
      interpreter: join(dir, 'go/bootstrap'),
    });
  });

  it('picks the concurrency variable in a fixed order', () => {
    expect(concurrencyVariableOf(undefined, ['WORKERS', 'CONCURRENCY'])).toBe('CONCURRENCY');
    expect(concurrencyVariableOf(undefined, ['MAX_CONCURRENCY', 'MAX_WORKERS'])).toBe('MAX_WORKERS');
    expect(concurrencyVariableOf('POOL', ['MAX_WORKERS'])).toBe('POOL');
    expect(concurrencyVariableOf(undefined, ['TABLE'])).toBeUndefined();
  });
});

describe('bad input', () => {
  it('a function the template does not have: lists the ones it has', () => {
    expect(failure({ template: './template.yaml', function: 'ScrapeFunction' })).toBe(
      `${dir}/scenario.json: workload.function: no function "ScrapeFunction" in ${dir}/template.yaml; it defines ScraperFunction, ReportFunction, LegacyFunction, InlineFunction. ` +
        'Fix: set it to one of ScraperFunction, ReportFunction, LegacyFunction, InlineFunction',
    );
  });

  it('a variable the template computes', () => {
    expect(failure({ template: './template.yaml', function: 'ScraperFunction' })).toBe(
      `${dir}/template.yaml: Resources.ScraperFunction.Properties.Environment.Variables.TABLE: is !Ref TableName, which the tool cannot evaluate. ` +
        `Fix: set its value under workload.environment in ${dir}/scenario.json, e.g. "environment": { "TABLE": "..." }`,
    );
  });

  it('a handler module that does not exist, in the scenario and in the template', () => {
    expect(failure({ function: { runtime: 'python3.11', handler: 'main.lambda_handler', codeUri: './src' } })).toBe(
      `${dir}/scenario.json: workload.function.handler: no main.py in ./src (${dir}/src) for the handler "main.lambda_handler"; it has app.py. ` +
        'Fix: set the handler to module.function of a module in the code directory, or correct the code directory',
    );
    project.write('template.yaml', globalsTemplate.replace('Handler: app.lambda_handler', 'Handler: scraper.lambda_handler'));
    expect(failure({ template: './template.yaml', function: 'ScraperFunction', environment: { TABLE: 'pages' } })).toBe(
      `${dir}/template.yaml: Resources.ScraperFunction.Properties.Handler: no scraper.py in src/ (${dir}/src) for the handler "scraper.lambda_handler"; it has app.py. ` +
        'Fix: set the handler to module.function of a module in the code directory, or correct the code directory',
    );
  });

  it('a node handler without its built JavaScript', () => {
    project.write('ts/app.ts', 'export const handler = async () => 1;\n');
    expect(failure({ function: { runtime: 'nodejs20.x', handler: 'app.handler', codeUri: './ts' } })).toBe(
      `${dir}/scenario.json: workload.function.handler: no app.js, .mjs or .cjs in ./ts (${dir}/ts) for the handler "app.handler". ` +
        'Fix: build the TypeScript first (sam build / tsc) and point the code directory at the built .js files',
    );
  });

  it('a handler that is not module.function, and a code directory that does not exist', () => {
    expect(failure({ function: { runtime: 'python3.11', handler: 'lambda_handler', codeUri: './src' } })).toBe(
      `${dir}/scenario.json: workload.function.handler: "lambda_handler" is not module.function. ` +
        'Fix: write it as Lambda reads it: the module path relative to the code directory, a dot, the function (app.lambda_handler, pkg.app.handler)',
    );
    expect(failure({ function: { runtime: 'python3.11', handler: 'app.lambda_handler', codeUri: './source' } })).toBe(
      `${dir}/scenario.json: workload.function.codeUri: ./source (${dir}/source) is not a directory. Fix: point it at the directory of the function code`,
    );
  });

  it('an unsupported runtime, in the template and in the scenario', () => {
    project.write('template.yaml', globalsTemplate.replace('Runtime: python3.11   # every function', 'Runtime: java21'));
    expect(failure({ template: './template.yaml', function: 'ReportFunction' })).toBe(
      `${dir}/template.yaml: Globals.Function.Runtime: runtime "java21" is not supported. ` +
        'Fix: use python3.x, nodejs18.x, nodejs20.x, nodejs22.x, provided.al2023 or provided.al2',
    );
    expect(failure({ function: { runtime: 'ruby3.3', handler: 'app.handler', codeUri: './src' } })).toBe(
      `${dir}/scenario.json: workload.function.runtime: must be python3.x, nodejs18.x, nodejs20.x, nodejs22.x, provided.al2023 or provided.al2. ` +
        'Fix: see schema/scenario.schema.json for the allowed fields and values',
    );
  });

  it('inline code, which is not on disk', () => {
    expect(failure({ template: './template.yaml', function: 'InlineFunction' })).toBe(
      `${dir}/template.yaml: Resources.InlineFunction.Properties.Code.ZipFile: is inline code (ZipFile), not a local directory the tool can run. ` +
        'Fix: set Code to the local directory of the code (as aws cloudformation package reads it), or describe the function with workload.function',
    );
  });

  it('an event file that is missing, not JSON, or not an object', () => {
    const fn = { runtime: 'python3.11', handler: 'app.lambda_handler', codeUri: './src' };
    expect(failure({ function: { ...fn, event: './events/missing.json' } })).toBe(
      `${dir}/scenario.json: workload.function.event: no such event file ./events/missing.json (${dir}/events/missing.json). ` +
        'Fix: give the path of a JSON file relative to the scenario file, or the event itself as an object',
    );
    project.write('events/broken.json', '{ "source": ');
    expect(failure({ template: './template.yaml', function: 'daily-report', event: './events/broken.json' })).toMatch(
      new RegExp(
        `^${dir}/scenario\\.json: workload\\.event: the event file \\./events/broken\\.json is not valid JSON \\(.+\\)\\. Fix: correct the JSON of .*events/broken\\.json$`,
      ),
    );
    project.write('events/list.json', '[1, 2]');
    expect(failure({ function: { ...fn, event: './events/list.json' } })).toBe(
      `${dir}/scenario.json: workload.function.event: the event file ./events/list.json holds a list, not a JSON object. Fix: make the event a JSON object, as Lambda events are`,
    );
  });

  it('a python interpreter that is not found', () => {
    expect(failure({ function: { runtime: 'python3.12', handler: 'app.lambda_handler', codeUri: './src' } })).toBe(
      `${dir}/scenario.json: workload.function.python: python3.12 not found: no python3.12 on PATH. ` +
        'Fix: set workload.function.python to a Python 3.12 interpreter (such as ./.venv/bin/python), or install Python 3.12',
    );
    expect(failure({ function: { runtime: 'python3.11', handler: 'app.lambda_handler', codeUri: './src', python: './.venv/bin/python' } })).toBe(
      `${dir}/scenario.json: workload.function.python: ./.venv/bin/python not found (${dir}/.venv/bin/python). ` +
        'Fix: give the path of a Python interpreter relative to the scenario file (such as ./.venv/bin/python), or a command on PATH',
    );
    project.write('bin/broken-python', '#!/bin/sh\nexit 127\n', 0o755);
    expect(failure({ template: './template.yaml', function: 'daily-report', python: './bin/broken-python' })).toBe(
      `${dir}/scenario.json: workload.python: ./bin/broken-python (${dir}/bin/broken-python) does not run as a Python 3 interpreter (\`--version\` failed). ` +
        'Fix: point it at a working interpreter (recreate the virtual environment?)',
    );
  });

  it('a template that is missing or not valid YAML', () => {
    expect(failure({ template: './infra/template.yaml', function: 'ScraperFunction' })).toBe(
      `${dir}/scenario.json: workload.template: no such file ${dir}/infra/template.yaml. ` +
        'Fix: give the path of the SAM/CloudFormation template or serverless.yml, relative to the scenario file',
    );
    project.write('template.yaml', 'Resources:\n  Fn:\n    Type: [unclosed\n');
    expect(failure({ template: './template.yaml', function: 'Fn' })).toMatch(
      new RegExp(`^${dir}/template\\.yaml: line \\d+: not valid YAML \\(.+\\)\\. Fix: correct the YAML syntax$`),
    );
  });

  it('a workload that is none of the three forms', () => {
    const file = project.scenario({ handler: 'app.lambda_handler' });
    expect(() => loadScenario(file)).toThrow(
      `${file}: workload: must be one of { "module": "./handler.ts" }, { "function": { "runtime", "handler", "codeUri", ... } } or { "template": "./template.yaml", "function": "LogicalId" }`,
    );
  });
});

describe('readTemplateFunction', () => {
  it('keeps what it cannot evaluate as written', () => {
    const fn = readTemplateFunction(globalsTemplate, '/stack/template.yaml', 'ScraperFunction');
    expect(fn.environment).toEqual({
      MAX_WORKERS: { path: 'Globals.Function.Environment.Variables.MAX_WORKERS', value: '60' },
      LOG_LEVEL: { path: 'Globals.Function.Environment.Variables.LOG_LEVEL', value: 'info' },
      TABLE: { path: 'Resources.ScraperFunction.Properties.Environment.Variables.TABLE', computed: '!Ref TableName' },
      BASE_URL: { path: 'Resources.ScraperFunction.Properties.Environment.Variables.BASE_URL', value: 'https://news.example' },
    });
    expect(fn.memoryMb).toEqual({ path: 'Globals.Function.MemorySize', value: 128 });
  });
});

describe('sweep of a function workload', () => {
  it('exits 2 with one line naming the file and field for a missing handler module', () => {
    const file = project.scenario({ function: { runtime: 'nodejs20.x', handler: 'missing.handler', codeUri: './src' } });
    const run = runScript('sweep', [file, '--isolation', 'none', '--out', join(dir, 'out.json'), '--no-report']);
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toEqual([
      `error: ${file}: workload.function.handler: no missing.js, .mjs or .cjs in ./src (${dir}/src) for the handler "missing.handler"; it has handler.mjs. ` +
        'Fix: set the handler to module.function of a module in the code directory, or correct the code directory',
    ]);
  });

  it('exits 2 with one line naming workload.function.python for a runtime whose Python is not installed', () => {
    const file = project.scenario({ function: { runtime: 'python3.99', handler: 'app.lambda_handler', codeUri: './src' } });
    // PATH has only the project's python3.11: no python3.99, no python3.
    const run = runScript('sweep', [file, '--out', join(dir, 'out.json'), '--no-report'], { env: { PATH: join(dir, 'bin') } });
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toEqual([
      `error: ${file}: workload.function.python: python3.99 not found: no python3.99 on PATH. ` +
        'Fix: set workload.function.python to a Python 3.99 interpreter (such as ./.venv/bin/python), or install Python 3.99',
    ]);
  });

  it("exits 2 with one line naming the template's Handler for a Python module the code directory lacks", () => {
    project.write('missing-module.yaml', globalsTemplate.replace('Handler: app.lambda_handler # src/app.py', 'Handler: scraper.lambda_handler'));
    const file = project.scenario({ template: './missing-module.yaml', function: 'ScraperFunction', environment: { TABLE: 'pages' } });
    const run = runScript('sweep', [file, '--out', join(dir, 'out.json'), '--no-report'], { env: { PATH: join(dir, 'bin') } });
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toEqual([
      `error: ${dir}/missing-module.yaml: Resources.ScraperFunction.Properties.Handler: no scraper.py in src/ (${dir}/src) for the handler "scraper.lambda_handler"; it has app.py. ` +
        'Fix: set the handler to module.function of a module in the code directory, or correct the code directory',
    ]);
  });

  it('exits 2 for a function the template lacks, before and whatever --isolation says; a valid function only for --isolation none', () => {
    const bad = project.scenario({ template: './template.yaml', function: 'Scraper' });
    const run = runScript('sweep', [bad, '--isolation', 'none', '--out', join(dir, 'out.json'), '--no-report']);
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      `error: ${bad}: workload.function: no function "Scraper" in ${dir}/template.yaml; it defines ScraperFunction, ReportFunction, LegacyFunction, InlineFunction`,
    );

    const good = project.scenario({ template: './template.yaml', function: 'LegacyFunction' }, 'good.json');
    const refused = runScript('sweep', [good, '--isolation', 'none', '--out', join(dir, 'out.json'), '--no-report']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      'error: --isolation: a deployed function runs in a network namespace of its own, and --isolation none turns those off. Fix: leave out --isolation none',
    );
  });
});
