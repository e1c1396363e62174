import { describe, expect, it } from 'vitest';
import { waterfallChart, waterfallRows, WATERFALL_MAX_ROWS } from '../harness/report/charts/waterfall.ts';
import { loadScenario } from '../harness/scenario/load.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';

const seed = loadScenario('scenarios/seed-case-study.json');

describe('the waterfall of one invocation', () => {
  it("puts the seed's slowest request, the archive page, on the critical path at 60 workers, and it ends the invocation", () => {
    const rows = waterfallRows(seed, 60);
    expect(rows).toHaveLength(100);
    const slowest = rows.reduce((a, b) => (b.doneS - b.startS > a.doneS - a.startS ? b : a));
    expect(slowest.host).toBe('archive.example');
    expect(slowest.critical).toBe(true);
    expect(slowest.doneS).toBe(Math.max(...rows.map((row) => row.doneS)));
    expect(slowest.tooltip).toMatch(/^https:\/\/archive\.example\/old\/\d+: .* on the critical path$/);
  });

  it('chains the critical path worker by worker when the job runs serially: every request is on it', () => {
    const rows = waterfallRows(seed, 1);
    expect(rows.every((row) => row.critical)).toBe(true);
    // Rows are in start order, each starting when the one before was done.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.startS).toBe(rows[i - 1]!.doneS);
  });

  it('keeps the critical path and the longest requests of a large invocation', () => {
    const large = scenarioSchema.parse({
      name: 'large',
      seed: 1,
      requests: [
        { host: 'a.example', count: 1000 },
        { host: 'slow.example', count: 1 },
      ],
      hosts: { 'a.example': { latencyMs: { dist: 'lognormal', median: 50, p99: 400 } }, 'slow.example': { latencyMs: { dist: 'fixed', value: 5000 } } },
    });
    const rows = waterfallRows(large, 100);
    expect(rows).toHaveLength(WATERFALL_MAX_ROWS);
    expect(rows.find((row) => row.host === 'slow.example')?.critical).toBe(true);
    expect(waterfallChart(large, 100, 512).spec.title).toMatchObject({
      subtitle: `Ideal schedule (the critical path and the ${WATERFALL_MAX_ROWS} longest of 1001 requests); red outline: the critical path`,
    });
  });
});
