import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioInput } from '../../harness/scenario/schema.ts';

/** A quick scenario for end-to-end tests: 8 pages of ~10 ms from one host. */
export function quickScenario(overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'quick',
    seed: 3,
    requests: [{ host: 'site.example', count: 8 }],
    hosts: { 'site.example': { latencyMs: { dist: 'fixed', value: 10 }, bodyBytes: { dist: 'fixed', value: 2000 } } },
    work: { parse: 'html' },
    sink: { latencyMs: { dist: 'fixed', value: 1 }, poolSize: 2, batchSize: 1 },
    lambda: { timeoutS: 5 },
    ...overrides,
  };
}

/** Writes a scenario into a fresh temporary directory and returns its path and the directory. */
export function writeScenario(scenario: ScenarioInput, dir = mkdtempSync(join(tmpdir(), 'fanout-scenario-'))): { file: string; dir: string } {
  const file = join(dir, `${scenario.name}.json`);
  writeFileSync(file, JSON.stringify(scenario, null, 2));
  return { file, dir };
}
