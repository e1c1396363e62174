import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Handler } from './handler.ts';

/** A handler ready to call, or what is wrong with the scenario's `workload`, in the user's words. */
export type HandlerLoad = { ok: true; handler: Handler } | { ok: false; field: 'workload.module' | 'workload.export'; problem: string; fix: string };

export const NO_MODULE_FIX = "give the handler module's path relative to the scenario file";

/** Imports the user's module and picks its handler; never throws. */
export async function importHandler(modulePath: string, exportName: string): Promise<HandlerLoad> {
  if (!existsSync(modulePath)) {
    return {
      ok: false,
      field: 'workload.module',
      problem: `no such module ${modulePath}`,
      fix: NO_MODULE_FIX,
    };
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    return {
      ok: false,
      field: 'workload.module',
      problem: `${modulePath} cannot be loaded (${error instanceof Error ? error.message : String(error)})`,
      fix: 'make the module load with `node --import tsx` on its own',
    };
  }
  const candidate = namespace[exportName];
  if (typeof candidate !== 'function') {
    const functions = Object.keys(namespace).filter((key) => typeof namespace[key] === 'function');
    return {
      ok: false,
      field: 'workload.export',
      problem: `${modulePath} has no exported function "${exportName}"${functions.length ? ` (its functions: ${functions.join(', ')})` : ''}`,
      fix: functions.length ? `set "export" to one of ${functions.map((f) => `"${f}"`).join(', ')}` : 'export the handler function from the module',
    };
  }
  return { ok: true, handler: candidate as Handler };
}
