import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../harness/workload/function-spec.ts';
import { checkHandlerDefined } from '../harness/workload/handler-defined.ts';

/**
 * A handler the module does not define is refused before the sweep, by reading the module rather
 * than running it: Python's parser for Python, esbuild's export list for an ES module. CommonJS
 * exports are known only by running the module, so those are left to the runtime's INIT.
 */

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/functions/${path}`, import.meta.url));
const where = { file: 'template.yaml', field: 'ScraperFunction: Handler' };

function spec(language: 'python' | 'node', handlerModule: string, handlerFunction: string): FunctionSpec {
  return {
    runtime: language === 'python' ? 'python3.11' : 'nodejs20.x',
    language,
    handler: `app.${handlerFunction}`,
    handlerModule,
    handlerFunction,
    codeDir: handlerModule.replace(/\/[^/]+$/, ''),
    event: {},
    environment: {},
    concurrencyVariable: undefined,
    timeoutS: 3,
    interpreter: language === 'python' ? 'python3' : process.execPath,
    source: {},
  };
}

describe('checking that the handler is defined', () => {
  it('accepts a Python function the module defines at its top level', async () => {
    await expect(checkHandlerDefined(spec('python', fixture('python/app.py'), 'lambda_handler'), where)).resolves.toBeUndefined();
  });

  it('refuses a Python function the module lacks, naming the file, the field and what it defines', async () => {
    await expect(checkHandlerDefined(spec('python', fixture('python/app.py'), 'handler'), where)).rejects.toThrow(
      /^template\.yaml: ScraperFunction: Handler: .*python\/app\.py has no handler \(it defines .*lambda_handler.*\), so Lambda would fail at INIT with Runtime\.HandlerNotFound/,
    );
  });

  it('refuses a Python module that does not parse, with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-handler-'));
    try {
      writeFileSync(join(dir, 'app.py'), 'def lambda_handler(event, context):\n    return {\n');
      await expect(checkHandlerDefined(spec('python', join(dir, 'app.py'), 'lambda_handler'), where)).rejects.toThrow(/app\.py does not parse \(line 2: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not run the module it reads: an import that would fail at INIT is no concern of this check', async () => {
    await expect(checkHandlerDefined(spec('python', fixture('python-broken/app.py'), 'lambda_handler'), where)).resolves.toBeUndefined();
  });

  it('accepts an ES module export and refuses a missing one', async () => {
    await expect(checkHandlerDefined(spec('node', fixture('node-esm/app.js'), 'handler'), where)).resolves.toBeUndefined();
    await expect(checkHandlerDefined(spec('node', fixture('node-esm/app.js'), 'nope'), where)).rejects.toThrow(
      /node-esm\/app\.js has no nope \(it defines .*handler/,
    );
  });

  it('leaves a CommonJS module to the runtime: its exports are known only by running it', async () => {
    await expect(checkHandlerDefined(spec('node', fixture('node-cjs/app.js'), 'nope'), where)).resolves.toBeUndefined();
  });
});
