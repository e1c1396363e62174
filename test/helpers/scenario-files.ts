import { writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { scenarioSchema, type Scenario, type ScenarioInput } from '../../harness/scenario/schema.ts';
import { scratchDir } from './scratch.ts';

/**
 * The scenarios tests build: one home, so that a field added to the scenario contract is added
 * to the tests' scenarios in one place.
 */

/** A distribution that always draws `value`. */
export function fixed(value: number): { dist: 'fixed'; value: number } {
  return { dist: 'fixed', value };
}

/**
 * A validated scenario for tests of the job model (the simulator, the ideal makespan, the CPU
 * model): one request to `a.example`, fixed 100 ms, and a sink that is free and instant, so
 * that only what the test overrides matters.
 */
export function modelScenario(overrides: Partial<ScenarioInput> = {}): Scenario {
  return scenarioSchema.parse({
    name: 'model-test',
    seed: 1,
    requests: [{ host: 'a.example', count: 1 }],
    hosts: { 'a.example': { latencyMs: fixed(100) } },
    sink: { latencyMs: fixed(0), poolSize: 1000, batchSize: 1 },
    ...overrides,
  });
}

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

/**
 * Writes a scenario into `dir` (by default a fresh directory removed after the test file) and
 * returns its path and the directory.
 */
export function writeScenario(scenario: ScenarioInput, dir = scratchDir('scenario')): { file: string; dir: string } {
  const file = join(dir, `${scenario.name}.json`);
  writeFileSync(file, JSON.stringify(scenario, null, 2));
  return { file, dir };
}

/** The handler modules the end-to-end tests run as a job. */
export const HANDLER_FIXTURES = resolve('test/fixtures/handlers');

/**
 * A two-request scenario whose job is `fixture`, a handler module under test/fixtures/handlers
 * exporting `handler`, for a scenario file written in `dir` (workload.module is resolved from the
 * scenario's directory).
 */
export function handlerFixtureScenario(dir: string, fixture: string): ScenarioInput {
  return quickScenario({
    name: fixture.replace(/\.ts$/, ''),
    requests: [{ host: 'site.example', count: 2 }],
    hosts: { 'site.example': { latencyMs: fixed(2), bodyBytes: fixed(500) } },
    work: { parse: 'none' },
    workload: { module: relative(dir, join(HANDLER_FIXTURES, fixture)), export: 'handler' },
    lambda: { timeoutS: 30 },
  });
}
