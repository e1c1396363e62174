import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { loadScenario, parseScenario, scenarioHash } from '../harness/scenario/load.ts';
import { scenarioJsonSchema } from '../harness/scenario/json-schema.ts';
import { readFileSync } from 'node:fs';
import { scratchDir } from './helpers/scratch.ts';

const minimal = {
  name: 'minimal',
  seed: 1,
  requests: [{ host: 'a.example', count: 3 }],
  hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 10 } } },
};

function refusal(raw: unknown): InputError {
  try {
    parseScenario(raw, 'x.json');
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('the scenario was accepted');
}

describe('scenario validation', () => {
  it('accepts every bundled scenario and points each at the generated schema', () => {
    const files = readdirSync('scenarios').filter((f) => f.endsWith('.json'));
    expect(files).toContain('seed-case-study.json');
    for (const file of files) {
      const scenario = loadScenario(join('scenarios', file));
      expect(scenario.name).toBe(file.replace(/\.json$/, ''));
      expect(scenario.$schema).toBe('../schema/scenario.schema.json');
    }
  });

  it('fills the defaults a minimal scenario leaves out', () => {
    const scenario = parseScenario(minimal, 'x.json');
    expect(scenario.client).toEqual({ timeoutMs: 10_000, retries: 1, backoffMs: 100, library: 'fetch' });
    expect(scenario.hosts['a.example']!.errorRate).toBe(0);
    expect(scenario.work.parse).toBe('html');
  });

  it('names the field and the fix for a bad name', () => {
    const error = refusal({ ...minimal, name: 'Bad Name' });
    expect(error.message).toBe(
      'x.json: name: must match [a-z0-9-]+ (it names output files). Fix: see schema/scenario.schema.json for the allowed fields and values',
    );
  });

  it('refuses a misspelt field instead of ignoring it', () => {
    const error = refusal({ ...minimal, hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 10 }, capacty: 3 } } });
    expect(error.field).toBe('hosts.a.example');
    expect(error.message).toContain('capacty');
  });

  it('refuses a request to a host that is not defined', () => {
    const error = refusal({ ...minimal, requests: [{ host: 'b.example', count: 1 }] });
    expect(error.field).toBe('requests[0].host');
    expect(error.message).toContain('host "b.example" is not defined under "hosts"');
  });

  it('refuses a lognormal whose p99 is not above its median', () => {
    const error = refusal({ ...minimal, hosts: { 'a.example': { latencyMs: { dist: 'lognormal', median: 100, p99: 50 } } } });
    expect(error.field).toBe('hosts.a.example.latencyMs.p99');
  });

  it('refuses fault rates that add up to more than one', () => {
    const error = refusal({
      ...minimal,
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 1 }, errorRate: 0.6, timeoutRate: 0.6 } },
    });
    expect(error.field).toBe('hosts.a.example.errorRate');
  });

  it('refuses memory sizes outside what Lambda offers', () => {
    const error = refusal({ ...minimal, sweep: { memoryMb: [64] } });
    expect(error.field).toBe('sweep.memoryMb[0]');
  });

  it('names the file for a missing file and for invalid JSON', () => {
    const dir = scratchDir('scenario-files');
    expect(() => loadScenario(join(dir, 'nope.json'))).toThrow(/nope\.json: no such scenario file\. Fix: check the path/);
    writeFileSync(join(dir, 'broken.json'), '{"name": ');
    expect(() => loadScenario(join(dir, 'broken.json'))).toThrow(/broken\.json: not valid JSON/);
  });

  it('gives the same hash whatever the key order, and another for another seed', () => {
    const a = parseScenario(minimal, 'x.json');
    const b = parseScenario({ hosts: minimal.hosts, requests: minimal.requests, seed: 1, name: 'minimal' }, 'x.json');
    expect(scenarioHash(a)).toBe(scenarioHash(b));
    expect(scenarioHash(parseScenario({ ...minimal, seed: 2 }, 'x.json'))).not.toBe(scenarioHash(a));
  });

  it('keeps the committed JSON Schema in step with the validator', () => {
    const committed = JSON.parse(readFileSync('schema/scenario.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(scenarioJsonSchema());
  });
});
