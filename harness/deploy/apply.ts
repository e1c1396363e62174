import { basename } from 'node:path';
import { isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml';
import { InputError } from '../errors.ts';
import type { DeploymentSettings } from './settings.ts';
import { editYaml, parseYaml, pathText, templateResources, type YamlEdit, type YamlPath } from './yaml-edit.ts';

/**
 * Writes recommended settings into an existing deployment file, changing only the memory size and
 * MAX_WORKERS (or the function's own concurrency variable) and keeping comments, order and formatting. Pure: text in, text out; the entry
 * script does the file I/O.
 */

export const FILE_KINDS = ['sam', 'serverless', 'tfvars'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** `.tfvars` files, `serverless.yml` (or serverless.<stage>.yml), any other YAML as SAM/CloudFormation. */
export function inferFileKind(file: string): FileKind {
  const name = basename(file).toLowerCase();
  if (name.endsWith('.tfvars')) return 'tfvars';
  if (/^serverless(\.[\w-]+)?\.ya?ml$/.test(name)) return 'serverless';
  if (/\.(ya?ml|template)$/.test(name)) return 'sam';
  throw new InputError({
    file,
    problem: 'cannot tell what kind of deployment file this is',
    fix: 'pass a .tfvars file, a serverless.yml, or a SAM/CloudFormation template in YAML (.yaml, .yml)',
  });
}

export interface ApplyResult {
  text: string;
  /** One line per value changed: `path: old -> new`. */
  changes: string[];
  /** Settings the file has that do not fit the recommendation (timeout, architecture); not changed. */
  warnings: string[];
}

export interface ApplyOptions {
  /** Which function to edit when the file has several (logical ID, FunctionName, or serverless key). */
  functionName?: string;
  /** The variable the function reads its concurrency from (default MAX_WORKERS). */
  concurrencyVariable?: string;
  /** For messages only. */
  file?: string;
}

export function applySettings(fileText: string, fileKind: FileKind, settings: DeploymentSettings, options: ApplyOptions = {}): ApplyResult {
  const file = options.file ?? `the ${fileKind} file`;
  switch (fileKind) {
    case 'sam':
      return applyToTemplate(fileText, settings, options.functionName, file, options.concurrencyVariable ?? 'MAX_WORKERS');
    case 'serverless':
      return applyToServerless(fileText, settings, options.functionName, file, options.concurrencyVariable ?? 'MAX_WORKERS');
    case 'tfvars':
      if (options.functionName !== undefined) {
        throw new InputError({ field: '--function', problem: `does not apply to a .tfvars file (${file})`, fix: 'drop --function' });
      }
      return applyToTfvars(fileText, settings, file);
  }
}

// ---- YAML: SAM / CloudFormation and Serverless ----------------------------------------------

function scalarValue(doc: Document, path: YamlPath): unknown {
  const node = doc.getIn(path, true) as Node | undefined;
  return isScalar(node) ? node.value : undefined;
}

function describeValue(value: unknown): string {
  return value === undefined || value === null ? '(not set)' : String(value);
}

function describeChange(name: string, before: unknown, after: number | string, inherited?: string): string {
  if (String(before) === String(after)) return `${name}: ${after} (unchanged)`;
  const was = before === undefined && inherited !== undefined ? `(not set; ${inherited})` : describeValue(before);
  return `${name}: ${was} -> ${after}`;
}

function pickFunction(names: string[], aliases: Map<string, string>, wanted: string | undefined, file: string, what: string): string {
  if (names.length === 0) {
    throw new InputError({ file, field: what, problem: 'has no Lambda function', fix: 'pass the template or serverless.yml that defines the function' });
  }
  if (wanted !== undefined) {
    const found = names.includes(wanted) ? wanted : aliases.get(wanted);
    if (found === undefined) {
      throw new InputError({
        file,
        field: '--function',
        problem: `no function "${wanted}"; the file defines ${names.join(', ')}`,
        fix: 'pass one of those names',
      });
    }
    return found;
  }
  if (names.length > 1) {
    throw new InputError({
      file,
      field: '--function',
      problem: `the file defines ${names.length} functions (${names.join(', ')}) and none was named`,
      fix: `pass --function ${names[0]} (or another of them)`,
    });
  }
  return names[0]!;
}

/** `inherited` says where a value the function does not set comes from (SAM Globals, serverless provider). */
function applyEdits(
  text: string,
  doc: Document,
  edits: YamlEdit[],
  file: string,
  inherited: (path: YamlPath) => YamlPath | undefined = () => undefined,
): { text: string; changes: string[] } {
  const changes = edits.map((edit) => {
    const from = inherited(edit.path);
    const value = from === undefined ? undefined : scalarValue(doc, from);
    return describeChange(
      pathText(edit.path),
      scalarValue(doc, edit.path),
      edit.value,
      from && value !== undefined ? `${pathText(from)} ${String(value)}` : undefined,
    );
  });
  return { text: editYaml(text, edits, file), changes };
}

function timeoutWarning(current: unknown, source: string, settings: DeploymentSettings): string[] {
  if (typeof current !== 'number' || current >= settings.timeoutS) return [];
  return [
    `${source} is ${current} s, below the recommended ${settings.timeoutS} s (p95 ${Math.round(settings.p95Ms)} ms with headroom); raise it or invocations will time out`,
  ];
}

function architectureWarning(current: unknown, source: string, settings: DeploymentSettings): string[] {
  if (typeof current !== 'string' || current === settings.architecture) return [];
  return [`${source} is ${current}, but the recommendation was measured and priced for ${settings.architecture}; change one of them`];
}

function firstOfList(doc: Document, path: YamlPath): unknown {
  const node = doc.getIn(path, true) as Node | undefined;
  if (!isSeq(node)) return undefined;
  const first = node.items[0] as Node | undefined;
  return isScalar(first) ? first.value : undefined;
}

const FUNCTION_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);

function applyToTemplate(text: string, settings: DeploymentSettings, functionName: string | undefined, file: string, concurrencyVariable: string): ApplyResult {
  const doc = parseYaml(text, file);
  const resources = templateResources(doc, file, 'pass the template that defines the function, or name a Serverless Framework file serverless.yml');
  const names: string[] = [];
  const aliases = new Map<string, string>();
  for (const pair of resources.items) {
    const id = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!isMap(pair.value) || !FUNCTION_TYPES.has(String(scalarValue(doc, ['Resources', id, 'Type'])))) continue;
    names.push(id);
    const functionNameProperty = scalarValue(doc, ['Resources', id, 'Properties', 'FunctionName']);
    if (typeof functionNameProperty === 'string') aliases.set(functionNameProperty, id);
  }
  const id = pickFunction(names, aliases, functionName, file, 'Resources');
  const properties = ['Resources', id, 'Properties'];
  const serverless = scalarValue(doc, ['Resources', id, 'Type']) === 'AWS::Serverless::Function';
  const globals = (key: string): unknown => (serverless ? scalarValue(doc, ['Globals', 'Function', key]) : undefined);

  const currentTimeout = scalarValue(doc, [...properties, 'Timeout']);
  const timeoutSource =
    currentTimeout !== undefined ? `${id} Timeout` : globals('Timeout') !== undefined ? 'Globals.Function.Timeout' : `${id} Timeout (default)`;
  const currentArch =
    firstOfList(doc, [...properties, 'Architectures']) ?? (serverless ? firstOfList(doc, ['Globals', 'Function', 'Architectures']) : undefined) ?? 'x86_64';
  const warnings = [
    ...timeoutWarning(currentTimeout ?? globals('Timeout') ?? 3, timeoutSource, settings),
    ...architectureWarning(currentArch, `${id} Architectures`, settings),
  ];

  const { text: edited, changes } = applyEdits(
    text,
    doc,
    [
      { path: [...properties, 'MemorySize'], value: settings.memoryMb },
      { path: [...properties, 'Environment', 'Variables', concurrencyVariable], value: String(settings.maxWorkers) },
    ],
    file,
    // Globals stay as they are: the function's own value overrides them, and other functions keep theirs.
    (path) => (serverless ? ['Globals', 'Function', ...path.slice(properties.length)] : undefined),
  );
  return { text: edited, changes, warnings };
}

function applyToServerless(
  text: string,
  settings: DeploymentSettings,
  functionName: string | undefined,
  file: string,
  concurrencyVariable: string,
): ApplyResult {
  const doc = parseYaml(text, file);
  const functions = doc.get('functions', true) as Node | undefined;
  if (!isMap(functions)) {
    throw new InputError({
      file,
      field: 'functions',
      problem: 'missing: this Serverless Framework file defines no functions',
      fix: 'pass the serverless.yml that defines the function',
    });
  }
  const names = (functions as YAMLMap).items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)));
  const aliases = new Map<string, string>();
  for (const name of names) {
    const deployedName = scalarValue(doc, ['functions', name, 'name']);
    if (typeof deployedName === 'string') aliases.set(deployedName, name);
  }
  const name = pickFunction(names, aliases, functionName, file, 'functions');
  const fn = ['functions', name];

  const ownTimeout = scalarValue(doc, [...fn, 'timeout']);
  const providerTimeout = scalarValue(doc, ['provider', 'timeout']);
  const timeoutSource =
    ownTimeout !== undefined ? `functions.${name}.timeout` : providerTimeout !== undefined ? 'provider.timeout' : `functions.${name}.timeout (default)`;
  const arch = scalarValue(doc, [...fn, 'architecture']) ?? scalarValue(doc, ['provider', 'architecture']) ?? 'x86_64';
  const warnings = [
    ...timeoutWarning(ownTimeout ?? providerTimeout ?? 6, timeoutSource, settings),
    ...architectureWarning(arch, `functions.${name}.architecture`, settings),
  ];

  const { text: edited, changes } = applyEdits(
    text,
    doc,
    [
      { path: [...fn, 'memorySize'], value: settings.memoryMb },
      { path: [...fn, 'environment', concurrencyVariable], value: String(settings.maxWorkers) },
    ],
    file,
    (path) => ['provider', ...path.slice(fn.length)],
  );
  return { text: edited, changes, warnings };
}

// ---- Terraform .tfvars ----------------------------------------------------------------------

/** Lines outside /* block comments *\/, with their index. */
function codeLines(lines: string[]): number[] {
  const result: number[] = [];
  let inBlockComment = false;
  lines.forEach((line, index) => {
    const wasInComment = inBlockComment;
    const opens = line.lastIndexOf('/*');
    const closes = line.lastIndexOf('*/');
    if (opens >= 0 && opens > closes) inBlockComment = true;
    else if (closes >= 0 && closes > opens) inBlockComment = false;
    if (!wasInComment && !(opens >= 0 && line.trimStart().startsWith('/*'))) result.push(index);
  });
  return result;
}

function applyToTfvars(text: string, settings: DeploymentSettings, file: string): ApplyResult {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const code = codeLines(lines);
  const changes: string[] = [];
  const warnings: string[] = [];
  const appended: string[] = [];

  const assignment = (name: string): RegExp => new RegExp(`^(\\s*${name}\\s*=\\s*)("?)(-?\\d+(?:\\.\\d+)?)("?)(.*)$`);
  const setNumber = (name: string, value: number): void => {
    const pattern = assignment(name);
    const found = code.filter((index) => pattern.test(lines[index]!));
    if (found.length > 1) {
      throw new InputError({
        file,
        field: name,
        problem: `is set on ${found.length} lines (${found.map((i) => i + 1).join(', ')})`,
        fix: `keep one ${name} line`,
      });
    }
    const [index] = found;
    if (index === undefined) {
      if (code.some((i) => new RegExp(`^\\s*${name}\\s*=`).test(lines[i]!))) {
        throw new InputError({ file, field: name, problem: 'is not a plain number', fix: `set ${name} = ${value} by hand` });
      }
      appended.push(`${name} = ${value}`);
      changes.push(`${name}: (not set) -> ${value}`);
      return;
    }
    const match = pattern.exec(lines[index]!)!;
    changes.push(describeChange(name, match[3], value));
    lines[index] = `${match[1]}${match[2]}${value}${match[4]}${match[5]}`;
  };

  setNumber('memory_size', settings.memoryMb);
  setNumber('max_workers', settings.maxWorkers);

  const timeoutLine = code.map((i) => assignment('timeout').exec(lines[i]!)).find((m) => m !== null);
  if (timeoutLine) warnings.push(...timeoutWarning(Number(timeoutLine[3]), 'timeout', settings));
  const archLine = code.map((i) => /^\s*architectures\s*=\s*\[\s*"([\w-]+)"/.exec(lines[i]!)).find((m) => m !== null);
  if (archLine) warnings.push(...architectureWarning(archLine[1], 'architectures', settings));

  let edited = lines.join(newline);
  if (appended.length) {
    const endsWithNewline = edited.endsWith(newline) || edited === '';
    edited = `${edited}${endsWithNewline ? '' : newline}${appended.join(newline)}${newline}`;
  }
  return { text: edited, changes, warnings };
}
