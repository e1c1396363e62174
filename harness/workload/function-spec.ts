import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { listTemplateFunctions, readTemplateFunction, TEMPLATE_DEFAULTS, type TemplateFunction, type TemplateValue } from '../deploy/template.ts';
import {
  FUNCTION_RUNTIME_PATTERN,
  FUNCTION_RUNTIMES_TEXT,
  type InlineFunctionWorkload,
  type Scenario,
  type TemplateWorkload,
  type Workload,
} from '../scenario/schema.ts';

/**
 * The two function forms of a scenario's `workload` (inline `function`, or `template` +
 * `function`) resolved into one spec that says everything needed to run the function: which
 * file and function to call, with which interpreter, event and environment. Every path is checked
 * here, so a wrong handler or a missing interpreter fails before the sweep with one message.
 */

export type FunctionLanguage = 'python' | 'node' | 'custom';

export interface FunctionSpec {
  /** The Lambda runtime identifier: python3.11, nodejs20.x, provided.al2023, ... */
  runtime: string;
  language: FunctionLanguage;
  /**
   * Absolute path of the file the runtime loads: codeDir/app.py (python `app.lambda_handler`),
   * codeDir/app.js|.mjs|.cjs (node `app.handler`), codeDir/bootstrap (custom runtime). Exists.
   */
  handlerModule: string;
  /**
   * The function within it: `lambda_handler` (python), `handler` or a nested `a.b` (node); for a
   * custom runtime the whole Handler string, which Lambda passes to ./bootstrap as _HANDLER.
   */
  handlerFunction: string;
  /** The handler exactly as Lambda reads it (`app.lambda_handler`): the _HANDLER variable. */
  handler: string;
  /** Absolute directory of the function code (LAMBDA_TASK_ROOT). Exists. */
  codeDir: string;
  /** The invocation payload, read from its file when the scenario names one. */
  event: Record<string, unknown>;
  /** The function's variables: the template's literal ones with the scenario's on top. */
  environment: Record<string, string>;
  /** The variable the function reads its concurrency from, when it has one. */
  concurrencyVariable: string | undefined;
  /** The function timeout in seconds: the template's (or Lambda's default), else the scenario's lambda.timeoutS. */
  timeoutS: number;
  /**
   * What runs the code: the absolute path of a Python interpreter that answered `--version`,
   * process.execPath for node, the bootstrap itself for a custom runtime.
   */
  interpreter: string;
  /** Where the settings came from: the template (absolute path) and the function's logical ID. */
  source: { template?: string; logicalId?: string };
  /** What is deployed today, as far as the template says: the report's `--current` default. */
  current?: { memoryMb?: number; concurrency?: number };
}

/** Variables a concurrency setting is looked for under, in this order, when the scenario names none. */
export const CONCURRENCY_VARIABLES = ['MAX_WORKERS', 'CONCURRENCY', 'WORKERS', 'MAX_CONCURRENCY'] as const;

export type FunctionWorkload = InlineFunctionWorkload | TemplateWorkload;

export function isTemplateWorkload(workload: Workload | undefined): workload is TemplateWorkload {
  return workload !== undefined && 'template' in workload;
}

export function isInlineFunctionWorkload(workload: Workload | undefined): workload is InlineFunctionWorkload {
  return workload !== undefined && 'function' in workload && typeof workload.function === 'object';
}

export function isFunctionWorkload(workload: Workload | undefined): workload is FunctionWorkload {
  return isTemplateWorkload(workload) || isInlineFunctionWorkload(workload);
}

/**
 * The concurrency variable of a function workload: the scenario's `concurrencyVariable`, else the
 * first of CONCURRENCY_VARIABLES among `names` (the function's variables). Undefined when none.
 */
export function concurrencyVariableOf(explicit: string | undefined, names: Iterable<string>): string | undefined {
  if (explicit !== undefined) return explicit;
  const present = new Set(names);
  return CONCURRENCY_VARIABLES.find((name) => present.has(name));
}

/**
 * What `recommend --apply` writes into a deployment file for results of a function workload: the
 * function to edit (the scenario's template function when no --function is given) and the
 * variable that holds its concurrency, found as resolveFunction finds it: the scenario's
 * concurrencyVariable, else the first usual name among the function's variables in the file and
 * the scenario's environment. `concurrencyVariable` is undefined when the workload is not a
 * function, or the function has none of the usual names (the caller then writes MAX_WORKERS).
 */
export function applyTarget(
  workload: Workload | undefined,
  deployment: { text: string; file: string; kind: 'sam' | 'serverless' | 'tfvars' },
  functionName: string | undefined,
): { functionName: string | undefined; concurrencyVariable: string | undefined } {
  if (!isFunctionWorkload(workload) || deployment.kind === 'tfvars') return { functionName, concurrencyVariable: undefined };
  const name = functionName ?? (isTemplateWorkload(workload) ? workload.function : undefined);
  const explicit = isTemplateWorkload(workload) ? workload.concurrencyVariable : workload.function.concurrencyVariable;
  const scenarioNames = Object.keys((isTemplateWorkload(workload) ? workload.environment : workload.function.environment) ?? {});
  if (explicit !== undefined) return { functionName: name, concurrencyVariable: explicit };
  const functions = listTemplateFunctions(deployment.text, deployment.file);
  const which = name ?? (functions.length === 1 ? functions[0] : undefined);
  // Several functions and none named: applySettings says so.
  if (which === undefined) return { functionName: name, concurrencyVariable: undefined };
  let fn: TemplateFunction;
  try {
    fn = readTemplateFunction(deployment.text, deployment.file, which, { field: '--function' });
  } catch (error) {
    // No such function: applySettings says so, in the words of --apply.
    if (error instanceof InputError && error.field === '--function') return { functionName: name, concurrencyVariable: undefined };
    throw error;
  }
  return { functionName: name, concurrencyVariable: concurrencyVariableOf(undefined, [...Object.keys(fn.environment), ...scenarioNames]) };
}

export interface ResolveOptions {
  /** The environment whose PATH is searched for the Python interpreter (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Where the function's settings are in the files, for messages. */
interface Where {
  /** The file a field is in, and the field: the scenario's workload.function.handler or the template's Handler. */
  runtime: { file: string; field: string };
  handler: { file: string; field: string };
  codeUri: { file: string; field: string };
  /** The scenario field prefix of event, python, environment: workload.function or workload. */
  scenarioPrefix: string;
}

/** Resolves the scenario's function workload; throws an InputError for anything that would not run. */
export function resolveFunction(scenario: Scenario, scenarioFile: string, options: ResolveOptions = {}): FunctionSpec {
  const workload = scenario.workload;
  if (!isFunctionWorkload(workload)) {
    throw new InputError({ file: scenarioFile, field: 'workload', problem: 'is not a function workload', fix: 'set workload.function or workload.template' });
  }
  const scenarioDir = dirname(resolve(scenarioFile));
  const env = options.env ?? process.env;
  return isTemplateWorkload(workload)
    ? fromTemplate(workload, scenario, scenarioFile, scenarioDir, env)
    : fromInline(workload, scenario, scenarioFile, scenarioDir, env);
}

function fromInline(workload: InlineFunctionWorkload, scenario: Scenario, scenarioFile: string, scenarioDir: string, env: NodeJS.ProcessEnv): FunctionSpec {
  const fn = workload.function;
  const prefix = 'workload.function';
  const where: Where = {
    runtime: { file: scenarioFile, field: `${prefix}.runtime` },
    handler: { file: scenarioFile, field: `${prefix}.handler` },
    codeUri: { file: scenarioFile, field: `${prefix}.codeUri` },
    scenarioPrefix: prefix,
  };
  const environment = { ...(fn.environment ?? {}) };
  const concurrencyVariable = concurrencyVariableOf(fn.concurrencyVariable, Object.keys(environment));
  const concurrency = currentConcurrency(environment, concurrencyVariable);
  return {
    ...code(fn.runtime, fn.handler, resolve(scenarioDir, fn.codeUri), fn.codeUri, where, fn.python, scenarioFile, scenarioDir, env),
    event: readEvent(fn.event, `${prefix}.event`, scenarioFile, scenarioDir),
    environment,
    concurrencyVariable,
    timeoutS: scenario.lambda.timeoutS,
    source: {},
    ...(concurrency !== undefined ? { current: { concurrency } } : {}),
  };
}

function fromTemplate(workload: TemplateWorkload, scenario: Scenario, scenarioFile: string, scenarioDir: string, env: NodeJS.ProcessEnv): FunctionSpec {
  const templateFile = resolve(scenarioDir, workload.template);
  const text = readTemplateText(templateFile, scenarioFile);
  const fn = readTemplateFunction(text, templateFile, workload.function, { field: 'workload.function', nameFile: scenarioFile });
  const defaults = TEMPLATE_DEFAULTS[fn.kind];
  if (fn.image !== undefined) {
    throw new InputError({
      file: templateFile,
      field: fn.image.split(':')[0],
      problem: `${fn.logicalId} is deployed as a container image, which the tool does not run`,
      fix: 'describe the function with workload.function (runtime, handler, codeUri) instead',
    });
  }
  const runtime = literal(
    fn.runtime,
    templateFile,
    `${fieldBase(fn)}.${fn.kind === 'sam' ? 'Runtime' : 'runtime'}`,
    'the runtime',
    'set it to a literal runtime such as python3.12',
  );
  const handler = literal(
    fn.handler,
    templateFile,
    `${fieldBase(fn)}.${fn.kind === 'sam' ? 'Handler' : 'handler'}`,
    'the handler',
    'set it to a literal handler such as app.lambda_handler',
  );
  const codeUri = fn.codeUri === undefined ? { path: fieldBase(fn), value: '.' } : fn.codeUri;
  if ('computed' in codeUri) {
    throw new InputError({
      file: templateFile,
      field: codeUri.path,
      problem: `is ${codeUri.computed}, not a local directory the tool can run`,
      fix:
        fn.resourceType === 'AWS::Lambda::Function'
          ? 'set Code to the local directory of the code (as aws cloudformation package reads it), or describe the function with workload.function'
          : 'set CodeUri to the local directory of the code (as sam build reads it), or describe the function with workload.function',
    });
  }

  const environment: Record<string, string> = {};
  const overrides = workload.environment ?? {};
  const computed: { path: string; computed: string }[] = [];
  for (const [name, value] of Object.entries(fn.environment)) {
    if (Object.hasOwn(overrides, name)) continue;
    if ('value' in value) environment[name] = value.value;
    else computed.push(value);
  }
  if (computed.length) {
    const [first] = computed;
    const names = computed.map((value) => value.path.split('.').at(-1)!);
    throw new InputError({
      file: templateFile,
      field: first!.path,
      problem: `is ${first!.computed}, which the tool cannot evaluate${computed.length > 1 ? ` (so are ${names.slice(1).join(', ')})` : ''}`,
      fix: `set ${names.length > 1 ? 'their values' : 'its value'} under workload.environment in ${scenarioFile}, e.g. "environment": { ${names.map((name) => `"${name}": "..."`).join(', ')} }`,
    });
  }
  Object.assign(environment, overrides);

  const concurrencyVariable = concurrencyVariableOf(workload.concurrencyVariable, Object.keys(environment));
  const concurrency = currentConcurrency(environment, concurrencyVariable);
  const memoryMb = fn.memoryMb === undefined ? defaults.memoryMb : 'value' in fn.memoryMb ? fn.memoryMb.value : undefined;
  const timeoutS = fn.timeoutS === undefined ? defaults.timeoutS : 'value' in fn.timeoutS ? fn.timeoutS.value : scenario.lambda.timeoutS;
  const current = { ...(memoryMb !== undefined ? { memoryMb } : {}), ...(concurrency !== undefined ? { concurrency } : {}) };
  const templateDir = dirname(templateFile);
  const where: Where = {
    runtime: { file: templateFile, field: runtime.path },
    handler: { file: templateFile, field: handler.path },
    codeUri: { file: templateFile, field: codeUri.path },
    scenarioPrefix: 'workload',
  };
  return {
    ...code(runtime.value, handler.value, resolve(templateDir, codeUri.value), codeUri.value, where, workload.python, scenarioFile, scenarioDir, env),
    event: readEvent(workload.event, 'workload.event', scenarioFile, scenarioDir),
    environment,
    concurrencyVariable,
    timeoutS,
    source: { template: templateFile, logicalId: fn.logicalId },
    ...(Object.keys(current).length ? { current } : {}),
  };
}

function fieldBase(fn: TemplateFunction): string {
  return fn.kind === 'sam' ? `Resources.${fn.logicalId}.Properties` : `functions.${fn.logicalId}`;
}

function literal(value: TemplateValue<string> | undefined, file: string, field: string, what: string, fix: string): { path: string; value: string } {
  if (value === undefined) throw new InputError({ file, field, problem: `missing: the function has no ${what}`, fix });
  if ('computed' in value) {
    throw new InputError({
      file,
      field: value.path,
      problem: `is ${value.computed}, which the tool cannot evaluate`,
      fix: `${fix}, or describe the function with workload.function in the scenario`,
    });
  }
  return value;
}

function readTemplateText(templateFile: string, scenarioFile: string): string {
  try {
    return readFileSync(templateFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      file: scenarioFile,
      field: 'workload.template',
      problem: code === 'ENOENT' ? `no such file ${templateFile}` : `cannot read ${templateFile} (${code ?? String(error)})`,
      fix:
        code === 'ENOENT' ? 'give the path of the SAM/CloudFormation template or serverless.yml, relative to the scenario file' : 'check the file permissions',
    });
  }
}

function currentConcurrency(environment: Record<string, string>, variable: string | undefined): number | undefined {
  const raw = variable === undefined ? undefined : environment[variable];
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const value = Number(raw);
  return value > 0 ? value : undefined;
}

function languageOf(runtime: string, where: Where['runtime']): FunctionLanguage {
  if (!FUNCTION_RUNTIME_PATTERN.test(runtime)) {
    throw new InputError({
      file: where.file,
      field: where.field,
      problem: `runtime "${runtime}" is not supported`,
      fix: `use ${FUNCTION_RUNTIMES_TEXT}`,
    });
  }
  if (runtime.startsWith('python')) return 'python';
  if (runtime.startsWith('nodejs')) return 'node';
  return 'custom';
}

/** The language-dependent part: handler file, function, interpreter. */
function code(
  runtime: string,
  handler: string,
  codeDir: string,
  codeUriAsWritten: string,
  where: Where,
  python: string | undefined,
  scenarioFile: string,
  scenarioDir: string,
  env: NodeJS.ProcessEnv,
): Pick<FunctionSpec, 'runtime' | 'language' | 'handlerModule' | 'handlerFunction' | 'handler' | 'codeDir' | 'interpreter'> {
  const language = languageOf(runtime, where.runtime);
  if (!isDirectory(codeDir)) {
    throw new InputError({
      file: where.codeUri.file,
      field: where.codeUri.field,
      problem: `${codeUriAsWritten} (${codeDir}) is not a directory`,
      fix: 'point it at the directory of the function code',
    });
  }
  if (python !== undefined && language !== 'python') {
    throw new InputError({
      file: scenarioFile,
      field: `${where.scenarioPrefix}.python`,
      problem: `only applies to a python runtime, not ${runtime}`,
      fix: 'drop it',
    });
  }
  const base = { runtime, language, handler, codeDir };
  if (language === 'custom') {
    const bootstrap = join(codeDir, 'bootstrap');
    if (!existsSync(bootstrap)) {
      throw new InputError({
        file: where.codeUri.file,
        field: where.codeUri.field,
        problem: `no bootstrap in ${codeUriAsWritten} (${codeDir}), which a ${runtime} function runs`,
        fix: 'build the function first and point it at the directory with the bootstrap executable',
      });
    }
    if (!isExecutable(bootstrap)) {
      throw new InputError({ file: where.codeUri.file, field: where.codeUri.field, problem: `${bootstrap} is not executable`, fix: `chmod +x ${bootstrap}` });
    }
    return { ...base, handlerModule: bootstrap, handlerFunction: handler, interpreter: bootstrap };
  }

  if (language === 'python') {
    const dot = handler.lastIndexOf('.');
    const modulePart = handler.slice(0, Math.max(dot, 0));
    const functionName = handler.slice(dot + 1);
    if (dot <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(functionName) || !/^[A-Za-z_][A-Za-z0-9_]*([./][A-Za-z_][A-Za-z0-9_]*)*$/.test(modulePart)) {
      throw new InputError({
        file: where.handler.file,
        field: where.handler.field,
        problem: `"${handler}" is not module.function`,
        fix: 'write it as Lambda reads it: the module path relative to the code directory, a dot, the function (app.lambda_handler, pkg.app.handler)',
      });
    }
    const moduleFile = modulePart.replace(/\//g, '.').split('.').join('/');
    const candidates = [`${moduleFile}.py`, `${moduleFile}/__init__.py`];
    const found = candidates.map((candidate) => join(codeDir, candidate)).find((path) => isFile(path));
    if (!found) throw noHandlerModule(candidates[0]!, codeUriAsWritten, codeDir, where, ['.py'], handler);
    return {
      ...base,
      handlerModule: found,
      handlerFunction: functionName,
      interpreter: pythonInterpreter(runtime, python, where.scenarioPrefix, scenarioFile, scenarioDir, env),
    };
  }

  // node: the module is everything up to the first dot after the last slash; the rest may be nested (a.b).
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  const modulePart = dot < 0 ? '' : handler.slice(0, dot);
  const functionName = dot < 0 ? '' : handler.slice(dot + 1);
  if (!modulePart || modulePart.endsWith('/') || !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(functionName)) {
    throw new InputError({
      file: where.handler.file,
      field: where.handler.field,
      problem: `"${handler}" is not module.function`,
      fix: 'write it as Lambda reads it: the module path relative to the code directory without its extension, a dot, the export (app.handler, src/app.handler)',
    });
  }
  const extensions = ['.js', '.mjs', '.cjs'];
  const found = extensions.map((extension) => join(codeDir, `${modulePart}${extension}`)).find((path) => isFile(path));
  if (!found) throw noHandlerModule(`${modulePart}.js`, codeUriAsWritten, codeDir, where, extensions, handler, modulePart);
  return { ...base, handlerModule: found, handlerFunction: functionName, interpreter: process.execPath };
}

function noHandlerModule(
  expected: string,
  codeUriAsWritten: string,
  codeDir: string,
  where: Where,
  extensions: string[],
  handler: string,
  nodeModule?: string,
): InputError {
  const ts = nodeModule !== undefined && ['.ts', '.mts', '.cts'].some((extension) => isFile(join(codeDir, `${nodeModule}${extension}`)));
  const shown = nodeModule !== undefined ? `${nodeModule}.js, .mjs or .cjs` : expected;
  const present = listFiles(codeDir, extensions);
  return new InputError({
    file: where.handler.file,
    field: where.handler.field,
    problem: `no ${shown} in ${codeUriAsWritten} (${codeDir}) for the handler "${handler}"${present.length ? `; it has ${present.join(', ')}` : ''}`,
    fix: ts
      ? `build the TypeScript first (sam build / tsc) and point the code directory at the built .js files`
      : 'set the handler to module.function of a module in the code directory, or correct the code directory',
  });
}

function listFiles(dir: string, extensions: string[]): string[] {
  try {
    const names = readdirSync(dir)
      .filter((name) => extensions.some((extension) => name.endsWith(extension)))
      .sort();
    return names.length > 8 ? [...names.slice(0, 8), `${names.length - 8} more`] : names;
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `command` on PATH, as an absolute path. */
function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isFile(candidate) && isExecutable(candidate)) return resolve(candidate);
  }
  return undefined;
}

/** `Python 3.11.7` from `interpreter --version`, or undefined when it does not run (a pyenv shim without that version, a broken venv). */
export function pythonVersion(interpreter: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const run = spawnSync(interpreter, ['--version'], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, ...env } });
  if (run.status !== 0) return undefined;
  const match = /Python (3\.\d+)(\.\d+)?/.exec(`${run.stdout} ${run.stderr}`);
  return match?.[1];
}

function pythonInterpreter(
  runtime: string,
  python: string | undefined,
  prefix: string,
  scenarioFile: string,
  scenarioDir: string,
  env: NodeJS.ProcessEnv,
): string {
  const field = `${prefix}.python`;
  const wanted = runtime.replace(/^python/, ''); // 3.11
  if (python !== undefined) {
    const isPath = python.includes('/') || isAbsolute(python);
    const path = isPath ? resolve(scenarioDir, python) : onPath(python, env);
    if (path === undefined || !isFile(path)) {
      throw new InputError({
        file: scenarioFile,
        field,
        problem: `${python} not found${isPath ? ` (${path})` : ' on PATH'}`,
        fix: 'give the path of a Python interpreter relative to the scenario file (such as ./.venv/bin/python), or a command on PATH',
      });
    }
    if (pythonVersion(path, env) === undefined) {
      throw new InputError({
        file: scenarioFile,
        field,
        problem: `${python} (${path}) does not run as a Python 3 interpreter (\`--version\` failed)`,
        fix: 'point it at a working interpreter (recreate the virtual environment?)',
      });
    }
    return path;
  }
  const command = `python${wanted}`;
  const exact = onPath(command, env);
  if (exact !== undefined && pythonVersion(exact, env) === wanted) return exact;
  const generic = onPath('python3', env);
  if (generic !== undefined && pythonVersion(generic, env) === wanted) return generic;
  throw new InputError({
    file: scenarioFile,
    field,
    problem: `${command} not found: no ${command} on PATH${generic ? `, and python3 is not ${wanted}` : ''}`,
    fix: `set ${field} to a Python ${wanted} interpreter (such as ./.venv/bin/python), or install Python ${wanted}`,
  });
}

function readEvent(event: Record<string, unknown> | string | undefined, field: string, scenarioFile: string, scenarioDir: string): Record<string, unknown> {
  if (event === undefined) return {};
  if (typeof event !== 'string') return event;
  const file = resolve(scenarioDir, event);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      file: scenarioFile,
      field,
      problem: code === 'ENOENT' ? `no such event file ${event} (${file})` : `cannot read the event file ${file} (${code ?? String(error)})`,
      fix: code === 'ENOENT' ? 'give the path of a JSON file relative to the scenario file, or the event itself as an object' : 'check the file permissions',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError({
      file: scenarioFile,
      field,
      problem: `the event file ${event} is not valid JSON (${(error as Error).message})`,
      fix: `correct the JSON of ${relative(process.cwd(), file) || file}`,
    });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError({
      file: scenarioFile,
      field,
      problem: `the event file ${event} holds ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}, not a JSON object`,
      fix: 'make the event a JSON object, as Lambda events are',
    });
  }
  return parsed as Record<string, unknown>;
}
