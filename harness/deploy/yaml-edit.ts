import { isMap, isScalar, parseDocument, type Document, type Node, type Scalar, type YAMLMap } from 'yaml';
import type { CollectionTag, ScalarTag } from 'yaml';
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '../errors.ts';

/**
 * Edits values in a YAML file without touching anything else. The `yaml` Document API finds the
 * nodes and their source ranges; the new values are spliced into the original text, because
 * `Document.toString()` re-flows the file (it moves trailing comments onto their own lines and
 * normalises quoting and flow spacing), and a deployment file should change by exactly the lines
 * the user asked for.
 */

/** CloudFormation's short-form intrinsic functions, kept as they are written. */
const CLOUDFORMATION_FUNCTIONS = [
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Length',
  'Not',
  'And',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
] as const;

/**
 * Tags that let a CloudFormation or SAM template parse without "Unresolved tag" warnings: each
 * function accepts a scalar, a list or a map and resolves to the node as written, so its tag is
 * still on the node (and in the text) afterwards.
 */
export const cloudFormationTags: (ScalarTag | CollectionTag)[] = CLOUDFORMATION_FUNCTIONS.flatMap((name) => {
  const tag = `!${name}`;
  const scalar: ScalarTag = { tag, resolve: (value) => value };
  const seq: CollectionTag = { tag, collection: 'seq', resolve: (value) => value };
  const map: CollectionTag = { tag, collection: 'map', resolve: (value) => value };
  return [scalar, seq, map];
});

export function parseYaml(text: string, file: string): Document {
  const doc = parseDocument(text, { customTags: cloudFormationTags });
  const [error] = doc.errors;
  if (error) {
    const line = error.linePos?.[0].line;
    throw new InputError({
      file,
      field: line === undefined ? undefined : `line ${line}`,
      problem: `not valid YAML (${error.message.split('\n')[0]})`,
      fix: 'correct the YAML syntax',
    });
  }
  return doc;
}

export type YamlPath = readonly string[];

export interface YamlEdit {
  path: YamlPath;
  /** Numbers are written plain; strings quoted unless the value already there is a plain scalar. */
  value: number | string;
}

export function pathText(path: YamlPath): string {
  return path.join('.');
}

function column(text: string, position: number): number {
  return position - (text.lastIndexOf('\n', position - 1) + 1);
}

/** Column of a block map's keys, or undefined for an empty or flow map. */
function keyColumn(text: string, map: YAMLMap): number | undefined {
  const first = map.items[0]?.key as Node | undefined;
  if (map.flow || !first?.range) return undefined;
  return column(text, first.range[0]);
}

function renderScalar(value: number | string, existing?: Scalar): string {
  const raw = String(value);
  switch (existing?.type) {
    case 'QUOTE_SINGLE':
      return `'${raw}'`;
    case 'QUOTE_DOUBLE':
      return JSON.stringify(raw);
    case 'PLAIN':
      // A plain number stays plain, whether the new value is a number or a numeric string.
      if (/^-?\d+(\.\d+)?$/.test(raw)) return raw;
      return JSON.stringify(raw);
    default:
      return typeof value === 'number' ? raw : JSON.stringify(raw);
  }
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function cannotEdit(file: string, path: YamlPath, problem: string, value: number | string): InputError {
  return new InputError({
    file,
    field: pathText(path),
    problem,
    fix: `set ${path.at(-1)} to ${value} by hand (the tool only edits block-style YAML in place)`,
  });
}

/** Lines for keys that do not exist yet: `a:` / `  b:` / `    c: value`. */
function nestedLines(keys: readonly string[], value: number | string, indent: number, step: number): string {
  return keys
    .map((key, depth) => {
      const pad = ' '.repeat(indent + depth * step);
      return depth === keys.length - 1 ? `${pad}${key}: ${renderScalar(value)}` : `${pad}${key}:`;
    })
    .join('\n');
}

/** Inserts `keys` (the missing tail of a path) as the last entries of a block map. */
function insertIntoMap(text: string, map: YAMLMap, keys: readonly string[], value: number | string, step: number): string | undefined {
  const indent = keyColumn(text, map);
  if (indent === undefined || !map.range) return undefined;
  const end = map.range[1];
  const lines = nestedLines(keys, value, indent, step);
  if (text[end - 1] === '\n') return splice(text, end, end, `${lines}\n`);
  const lineEnd = text.indexOf('\n', end);
  if (lineEnd < 0) return `${text}\n${lines}\n`;
  return splice(text, lineEnd + 1, lineEnd + 1, `${lines}\n`);
}

function applyOne(text: string, edit: YamlEdit, file: string): string {
  const doc = parseYaml(text, file);
  const { path, value } = edit;
  const node = doc.getIn(path, true) as Node | undefined;
  if (node !== undefined) {
    if (!isScalar(node) || !node.range) {
      throw cannotEdit(file, path, 'is a list or map, expected a single value', value);
    }
    if (node.tag && node.tag.startsWith('!')) {
      throw new InputError({
        file,
        field: pathText(path),
        problem: `is ${node.tag} ${String(node.value)}, a reference the tool does not follow`,
        fix: `set the value where it is defined to ${value}, or replace the reference with ${value}`,
      });
    }
    if (typeof node.value === 'string' && node.value.includes('${')) {
      throw new InputError({
        file,
        field: pathText(path),
        problem: `is ${JSON.stringify(node.value)}, a variable the tool does not follow`,
        fix: `set the variable where it is defined to ${value}, or replace it with ${value}`,
      });
    }
    if (node.value === null && node.source === '') {
      // `key:` with nothing after it (maybe a comment): write the value after the colon.
      const at = node.range[0];
      const before = /\s/.test(text[at - 1] ?? '') ? '' : ' ';
      const after = at < text.length && text[at] !== '\n' && text[at] !== '\r' ? ' ' : '';
      return splice(text, at, at, `${before}${renderScalar(value)}${after}`);
    }
    return splice(text, node.range[0], node.range[1], renderScalar(value, node));
  }

  // Find the deepest ancestor that exists and hang the missing keys under it.
  let indentStep = 2;
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const ancestorPath = path.slice(0, depth);
    const ancestor = (depth === 0 ? doc.contents : doc.getIn(ancestorPath, true)) as Node | null | undefined;
    if (ancestor === undefined) continue;
    const missing = path.slice(depth);
    if (isMap(ancestor)) {
      const parent = depth === 0 ? undefined : depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      const own = keyColumn(text, ancestor);
      const outer = isMap(parent) ? keyColumn(text, parent) : undefined;
      if (own !== undefined && outer !== undefined && own > outer) indentStep = own - outer;
      const edited = insertIntoMap(text, ancestor, missing, value, indentStep);
      if (edited === undefined) throw cannotEdit(file, path, `${pathText(ancestorPath) || 'the document'} is empty or written in flow style`, value);
      return edited;
    }
    if (isScalar(ancestor) && ancestor.value === null && ancestor.source === '' && ancestor.range && depth > 0) {
      // `Variables:` with nothing under it: nest the missing keys one step deeper than the key.
      const keyLineStart = text.lastIndexOf('\n', ancestor.range[0] - 1) + 1;
      const keyIndent = text.slice(keyLineStart).search(/\S/);
      const lineEnd = text.indexOf('\n', ancestor.range[0]);
      const lines = nestedLines(missing, value, keyIndent + indentStep, indentStep);
      if (lineEnd < 0) return `${text}\n${lines}\n`;
      return splice(text, lineEnd + 1, lineEnd + 1, `${lines}\n`);
    }
    throw cannotEdit(file, path, `${pathText(ancestorPath)} is not a map`, value);
  }
  throw cannotEdit(file, path, 'the document is empty', value);
}

function setPath(root: unknown, path: YamlPath, value: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  const object = root !== null && typeof root === 'object' && !Array.isArray(root) ? (root as Record<string, unknown>) : {};
  object[key] = setPath(object[key], rest, value);
  return object;
}

/**
 * Applies the edits in order and checks the result: the file still parses, every edited path
 * holds its new value, and every other value is what it was (a splice next to a `|+` block scalar,
 * say, could change it). When a value cannot be edited in place this throws an InputError, so the
 * caller writes nothing.
 */
export function editYaml(text: string, edits: readonly YamlEdit[], file: string): string {
  let edited = text;
  for (const edit of edits) edited = applyOne(edited, edit, file);
  const check = parseYaml(edited, file);
  let expected: unknown = parseYaml(text, file).toJS();
  for (const edit of edits) {
    const actual: unknown = check.getIn(edit.path);
    if (String(actual) !== String(edit.value)) {
      throw new Error(`editing ${file} went wrong: ${pathText(edit.path)} is ${String(actual)} after the edit, expected ${edit.value}`);
    }
    expected = setPath(expected, edit.path, actual);
  }
  if (!isDeepStrictEqual(check.toJS(), expected)) {
    throw new InputError({
      file,
      problem: 'cannot set the values in place without changing other values of the file',
      fix: `set ${edits.map((edit) => `${pathText(edit.path)} = ${edit.value}`).join(' and ')} by hand`,
    });
  }
  return edited;
}

/** The template's Resources map; refused, naming the fix, when the file is no SAM/CloudFormation template. */
export function templateResources(doc: Document, file: string, fix: string): YAMLMap {
  const resources = doc.get('Resources', true) as Node | undefined;
  if (!isMap(resources)) {
    throw new InputError({ file, field: 'Resources', problem: 'missing: this is not a SAM/CloudFormation template', fix });
  }
  return resources;
}
