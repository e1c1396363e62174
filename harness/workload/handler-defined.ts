import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { InputError } from '../errors.ts';
import type { FunctionSpec } from './function-spec.ts';

/**
 * Whether the handler's module defines the function Lambda will call, found by reading the
 * module, not by running it (loading it would run its code before the fence is up): Python's own
 * parser lists a module's top-level names; esbuild lists an ES module's exports. A CommonJS
 * module's exports are known only by running it, so it is not checked here; its runtime reports
 * a missing handler at INIT, and every cell says so.
 */

/** Lists the module's top-level names, or exits 2 with the syntax error: no import, no side effect. */
const PYTHON_NAMES = `
import ast, sys
try:
    tree = ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])
except SyntaxError as error:
    print(f"line {error.lineno}: {error.msg}")
    sys.exit(2)
names = set()
for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, ast.Assign):
        names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        names.add(node.target.id)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in node.names)
print("\\n".join(sorted(names)))
`;

export async function checkHandlerDefined(spec: FunctionSpec, where: { file: string; field: string }): Promise<void> {
  const names = spec.language === 'python' ? pythonNames(spec, where) : spec.language === 'node' ? await esmExports(spec.handlerModule) : undefined;
  if (!names) return;
  const wanted = spec.handlerFunction.split('.')[0]!;
  if (names.includes(wanted)) return;
  const defined = names.length ? `it defines ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}` : 'it defines nothing at its top level';
  throw new InputError({
    file: where.file,
    field: where.field,
    problem: `${spec.handlerModule} has no ${wanted} (${defined}), so Lambda would fail at INIT with Runtime.HandlerNotFound`,
    fix: `name a function the module defines, as module.function (e.g. app.${names[0] ?? 'handler'})`,
  });
}

function pythonNames(spec: FunctionSpec, where: { file: string; field: string }): string[] | undefined {
  const run = spawnSync(spec.interpreter, ['-I', '-c', PYTHON_NAMES, spec.handlerModule], { encoding: 'utf8', timeout: 30_000 });
  if (run.status === 2) {
    throw new InputError({
      file: where.file,
      field: where.field,
      problem: `${spec.handlerModule} does not parse (${run.stdout.trim()})`,
      fix: 'fix the syntax error; Lambda would fail at INIT',
    });
  }
  // An interpreter that cannot run the check says nothing about the module: leave it to INIT.
  if (run.status !== 0) return undefined;
  return run.stdout.split('\n').filter(Boolean);
}

/** An ES module's export names; undefined for CommonJS, whose exports only running it tells. */
async function esmExports(file: string): Promise<string[] | undefined> {
  try {
    const result = await build({ entryPoints: [file], bundle: false, write: false, metafile: true, format: 'esm', platform: 'node', logLevel: 'silent' });
    const output = Object.values(result.metafile.outputs)[0];
    const text = result.outputFiles[0]?.text ?? '';
    // esbuild turns CommonJS into a module with only a default export: nothing to check by name.
    if (!output || /\bmodule\.exports\b|\bexports\.[A-Za-z_$]/.test(text)) return undefined;
    return output.exports;
  } catch {
    // A module esbuild cannot read is for the runtime to report.
    return undefined;
  }
}
