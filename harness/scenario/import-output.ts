import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { writeJsonAtomic } from '../results/io.ts';
import { summariseHosts } from './har.ts';
import type { ScenarioInput } from './schema.ts';

/** What `import-har` and `record` share: the scenario file they may write, writing it, and what they print. */

const SCHEMA_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema', 'scenario.schema.json');

export function checkScenarioName(name: string | undefined): void {
  if (name !== undefined && !/^[a-z0-9-]+$/.test(name)) {
    throw new InputError({ field: '--name', problem: `"${name}" is not a scenario name`, fix: 'use lower-case letters, digits and dashes only' });
  }
}

/** Refuses, before any work, to write over a directory or (without --force) over a file the tool did not just make. */
export function checkScenarioOut(file: string, force: boolean | undefined, field: string): void {
  if (!existsSync(file)) return;
  if (statSync(file).isDirectory()) {
    throw new InputError({ file, field, problem: 'is a directory', fix: 'give the scenario file to write, e.g. scenarios/my-site.json' });
  }
  if (!force) {
    throw new InputError({ file, field, problem: 'already exists', fix: `pass --force to overwrite it, or choose another ${field}` });
  }
}

/** The scenario with a $schema relative to where it is written, so editors check it. */
export function writeScenarioFile(file: string, scenario: ScenarioInput): void {
  const schemaPath = relative(dirname(resolve(file)), SCHEMA_FILE)
    .split(sep)
    .join('/');
  writeJsonAtomic(file, { $schema: schemaPath, ...scenario });
}

/** What `import-har` and `record` print after writing a scenario: per host what was seen, the notes, what to run next. */
export function importSummary(outFile: string, scenario: ScenarioInput, notes: readonly string[]): string {
  const hosts = summariseHosts(scenario);
  const lines = [
    `Wrote ${outFile}: scenario "${scenario.name}", ${scenario.requests.length} requests to ${hosts.length} host${hosts.length === 1 ? '' : 's'}, parse ${scenario.work?.parse ?? 'html'}`,
  ];
  const width = Math.max(...hosts.map((h) => h.host.length));
  for (const h of hosts) {
    const faults = [h.errorRate > 0 ? `5xx ${percent(h.errorRate)}` : '', h.resetRate > 0 ? `failed ${percent(h.resetRate)}` : ''].filter(Boolean).join(', ');
    lines.push(
      `  ${h.host.padEnd(width)}  ${String(h.requests).padStart(5)} requests  latency median ${h.latencyMedianMs.toFixed(1)} ms  body median ${Math.round(h.bodyMedianBytes)} B${faults ? `  ${faults}` : ''}`,
    );
  }
  if (notes.length > 0) lines.push('Notes:', ...notes.map((note) => `  - ${note}`));
  lines.push(`Next: npm run sweep -- ${outFile}`);
  return `${lines.join('\n')}\n`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
