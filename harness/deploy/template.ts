import { isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml';
import { InputError } from '../errors.ts';
import { inferFileKind } from './apply.ts';
import { parseYaml, templateResources } from './yaml-edit.ts';

/**
 * Reads one function's settings out of a SAM/CloudFormation template or a serverless.yml, as the
 * deployment would see them: the function's own properties over SAM `Globals.Function` (or
 * serverless `provider`), environment variables merged key by key. Pure (text in); values the
 * tool cannot evaluate (`!Ref`, `!Sub`, `${ssm:...}`, S3 code locations) come back as `computed`
 * with how they are written, so the caller decides whether it needs them.
 */

/** A value as the template gives it: literal, or written as something the tool does not evaluate. */
export type TemplateValue<T> = { path: string; value: T } | { path: string; computed: string };

export type TemplateKind = 'sam' | 'serverless';

export interface TemplateFunction {
  file: string;
  kind: TemplateKind;
  /** The resource's logical ID, or the key under serverless `functions`. */
  logicalId: string;
  /** AWS::Serverless::Function, AWS::Lambda::Function, or serverless. */
  resourceType: 'AWS::Serverless::Function' | 'AWS::Lambda::Function' | 'serverless';
  runtime?: TemplateValue<string>;
  handler?: TemplateValue<string>;
  /**
   * Where the code is, relative to the template's directory: CodeUri (SAM), Code as a local path
   * (CloudFormation, as `aws cloudformation package` takes it), "." for serverless. Undefined when
   * the template names none (SAM then builds the template's directory).
   */
  codeUri?: TemplateValue<string>;
  /** MemorySize with Globals/provider fallback; undefined when neither sets it (Lambda's default applies). */
  memoryMb?: TemplateValue<number>;
  /** Timeout with Globals/provider fallback; undefined when neither sets it. */
  timeoutS?: TemplateValue<number>;
  /** Function-level variables over Globals/provider ones, key by key. */
  environment: Record<string, TemplateValue<string>>;
  /** Set when the function is deployed as a container image (PackageType: Image, or serverless `image`). */
  image?: string;
}

/** The platform's defaults when the template sets no memory size or timeout. */
export const TEMPLATE_DEFAULTS = {
  sam: { memoryMb: 128, timeoutS: 3 },
  serverless: { memoryMb: 1024, timeoutS: 6 },
} as const;

const FUNCTION_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** How a node that is not a plain value is written, for messages: `!Ref DbSecretArn`, `a map`. */
function describeNode(node: Node): string {
  if (isScalar(node)) return `${node.tag ?? ''} ${String(node.value)}`.trim();
  const inner = isMap(node) ? 'a map' : isSeq(node) ? 'a list' : 'a value';
  if (node.tag?.startsWith('!')) return `${node.tag} with ${inner}`;
  if (isMap(node) && node.items.length === 1) {
    const key = keyText(node.items[0]!.key);
    if (key === 'Ref' || key.startsWith('Fn::')) return `{ ${key}: ... }`;
  }
  return inner;
}

function readValue<T>(doc: Document, path: string[], kind: TemplateKind, convert: (value: unknown) => T | undefined): TemplateValue<T> | undefined {
  const node = doc.getIn(path, true) as Node | undefined | null;
  if (node === undefined) return undefined;
  const where = path.join('.');
  if (node === null) return undefined;
  if (!isScalar(node) || (node.tag && node.tag.startsWith('!'))) return { path: where, computed: describeNode(node) };
  if (node.value === null) return undefined;
  if (kind === 'serverless' && typeof node.value === 'string' && node.value.includes('${')) return { path: where, computed: node.value };
  const value = convert(node.value);
  return value === undefined ? { path: where, computed: JSON.stringify(node.value) } : { path: where, value };
}

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
const asNumber = (value: unknown): number | undefined => {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
  return number !== undefined && Number.isFinite(number) ? number : undefined;
};

function readEnvironment(doc: Document, file: string, path: string[], kind: TemplateKind, into: Record<string, TemplateValue<string>>): void {
  const node = doc.getIn(path, true) as Node | undefined | null;
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return;
  if (!isMap(node) || node.tag?.startsWith('!')) {
    throw new InputError({
      file,
      field: path.join('.'),
      problem: `is ${describeNode(node)}, not a map of variables the tool can read`,
      fix: 'write the variables as a plain map, or set them under workload.environment in the scenario',
    });
  }
  for (const pair of (node as YAMLMap).items) {
    const name = keyText(pair.key);
    const value = readValue(doc, [...path, name], kind, asString);
    into[name] = value ?? { path: [...path, name].join('.'), value: '' };
  }
}

function functionNames(doc: Document, file: string, kind: TemplateKind): { names: string[]; aliases: Map<string, string> } {
  const names: string[] = [];
  const aliases = new Map<string, string>();
  if (kind === 'serverless') {
    const functions = doc.get('functions', true) as Node | undefined;
    if (isMap(functions)) {
      for (const pair of (functions as YAMLMap).items) {
        const name = keyText(pair.key);
        names.push(name);
        const deployed = doc.getIn(['functions', name, 'name']);
        if (typeof deployed === 'string') aliases.set(deployed, name);
      }
    }
    return { names, aliases };
  }
  const resources = templateResources(
    doc,
    file,
    'point workload.template at the template that defines the function (or name a Serverless Framework file serverless.yml)',
  );
  for (const pair of resources.items) {
    const id = keyText(pair.key);
    if (!FUNCTION_TYPES.has(String(doc.getIn(['Resources', id, 'Type'])))) continue;
    names.push(id);
    const functionName = doc.getIn(['Resources', id, 'Properties', 'FunctionName']);
    if (typeof functionName === 'string') aliases.set(functionName, id);
  }
  return { names, aliases };
}

/** The functions a template or serverless.yml defines (logical IDs / serverless keys), in file order. */
export function listTemplateFunctions(text: string, file: string): string[] {
  const kind = templateKindOf(file);
  return functionNames(parseYaml(text, file), file, kind).names;
}

/** serverless.yml (or serverless.<stage>.yml) is a Serverless Framework file; any other YAML a SAM/CloudFormation template. */
export function templateKindOf(file: string): TemplateKind {
  const kind = inferFileKind(file);
  if (kind === 'tfvars') {
    throw new InputError({
      file,
      problem: 'is a .tfvars file, which does not say how to run the function',
      fix: 'point workload.template at the SAM/CloudFormation template or serverless.yml',
    });
  }
  return kind;
}

/**
 * Finds `name` (logical ID, FunctionName, or serverless key / deployed name) and reads its
 * settings. Throws an InputError naming the functions the file has when it has no such function.
 * `field` is where the name came from, for that message (workload.function or --function).
 */
export function readTemplateFunction(text: string, file: string, name: string, options: { field?: string; nameFile?: string } = {}): TemplateFunction {
  const kind = templateKindOf(file);
  const doc = parseYaml(text, file);
  const { names, aliases } = functionNames(doc, file, kind);
  const logicalId = names.includes(name) ? name : aliases.get(name);
  if (logicalId === undefined) {
    throw new InputError({
      file: options.nameFile ?? file,
      field: options.field ?? 'workload.function',
      problem: names.length
        ? `no function "${name}" in ${file}; it defines ${names.join(', ')}`
        : `no function "${name}" in ${file}; it defines no Lambda function`,
      fix: names.length ? `set it to one of ${names.join(', ')}` : 'point workload.template at the file that defines the function',
    });
  }
  return kind === 'serverless' ? readServerlessFunction(doc, file, logicalId) : readSamFunction(doc, file, logicalId);
}

function readSamFunction(doc: Document, file: string, id: string): TemplateFunction {
  const properties = ['Resources', id, 'Properties'];
  const resourceType = String(doc.getIn(['Resources', id, 'Type'])) as 'AWS::Serverless::Function' | 'AWS::Lambda::Function';
  const sam = resourceType === 'AWS::Serverless::Function';
  const globals = ['Globals', 'Function'];
  const pick = <T>(key: string, convert: (value: unknown) => T | undefined): TemplateValue<T> | undefined =>
    readValue(doc, [...properties, key], 'sam', convert) ?? (sam ? readValue(doc, [...globals, key], 'sam', convert) : undefined);

  const environment: Record<string, TemplateValue<string>> = {};
  if (sam) readEnvironment(doc, file, [...globals, 'Environment', 'Variables'], 'sam', environment);
  readEnvironment(doc, file, [...properties, 'Environment', 'Variables'], 'sam', environment);

  let codeUri: TemplateValue<string> | undefined;
  if (sam) {
    codeUri = pick('CodeUri', asString);
    const inline = doc.getIn([...properties, 'InlineCode'], true) as Node | undefined;
    if (codeUri === undefined && inline !== undefined) codeUri = { path: `${properties.join('.')}.InlineCode`, computed: 'inline code (InlineCode)' };
  } else {
    const code = doc.getIn([...properties, 'Code'], true) as Node | undefined;
    if (isMap(code) && code.has('ZipFile')) codeUri = { path: `${properties.join('.')}.Code.ZipFile`, computed: 'inline code (ZipFile)' };
    else if (isMap(code) && code.has('S3Bucket')) codeUri = { path: `${properties.join('.')}.Code`, computed: 'an S3 location (S3Bucket/S3Key)' };
    else codeUri = readValue(doc, [...properties, 'Code'], 'sam', asString);
  }
  if (codeUri && 'value' in codeUri && /^s3:\/\//i.test(codeUri.value)) codeUri = { path: codeUri.path, computed: codeUri.value };

  const packageType = doc.getIn([...properties, 'PackageType']);
  const result: TemplateFunction = {
    file,
    kind: 'sam',
    logicalId: id,
    resourceType,
    environment,
  };
  const runtime = pick('Runtime', asString);
  const handler = pick('Handler', asString);
  const memoryMb = pick('MemorySize', asNumber);
  const timeoutS = pick('Timeout', asNumber);
  if (runtime) result.runtime = runtime;
  if (handler) result.handler = handler;
  if (codeUri) result.codeUri = codeUri;
  if (memoryMb) result.memoryMb = memoryMb;
  if (timeoutS) result.timeoutS = timeoutS;
  if (packageType === 'Image') result.image = `${properties.join('.')}.PackageType: Image`;
  return result;
}

function readServerlessFunction(doc: Document, file: string, name: string): TemplateFunction {
  const fn = ['functions', name];
  const provider = ['provider'];
  const pick = <T>(key: string, convert: (value: unknown) => T | undefined): TemplateValue<T> | undefined =>
    readValue(doc, [...fn, key], 'serverless', convert) ?? readValue(doc, [...provider, key], 'serverless', convert);
  const environment: Record<string, TemplateValue<string>> = {};
  readEnvironment(doc, file, [...provider, 'environment'], 'serverless', environment);
  readEnvironment(doc, file, [...fn, 'environment'], 'serverless', environment);
  const result: TemplateFunction = {
    file,
    kind: 'serverless',
    logicalId: name,
    resourceType: 'serverless',
    environment,
    codeUri: { path: fn.join('.'), value: '.' },
  };
  const runtime = pick('runtime', asString);
  const handler = readValue(doc, [...fn, 'handler'], 'serverless', asString);
  const memoryMb = pick('memorySize', asNumber);
  const timeoutS = pick('timeout', asNumber);
  if (runtime) result.runtime = runtime;
  if (handler) result.handler = handler;
  if (memoryMb) result.memoryMb = memoryMb;
  if (timeoutS) result.timeoutS = timeoutS;
  if (doc.getIn([...fn, 'image']) !== undefined) result.image = `${fn.join('.')}.image`;
  return result;
}
