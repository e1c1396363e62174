import { afterAll, describe, expect, it } from 'vitest';
import { BodyFactory } from '../harness/mock/bodies.ts';
import { UndiciBackend } from '../harness/mock/undici-backend.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';
import { parseBody } from '../harness/workload/parse.ts';
import { createParsePool } from '../harness/workload/parse-pool.ts';
import { ModelSink, type Row } from '../harness/workload/sink.ts';
import { runScraper } from '../harness/workload/scraper.ts';

const pool = createParsePool(2);
afterAll(() => pool.close());

describe('the parse worker pool (work.threads)', () => {
  it('gives the same parsed pages as the main thread, for HTML and JSON of every size', async () => {
    const factory = new BodyFactory();
    const bodies = [
      ...[0, 300, 5000, 20_000, 150_000].map((bytes, i) => ({ kind: 'html' as const, text: factory.build('html', bytes, i) })),
      ...[100, 6000, 40_000].map((bytes, i) => ({ kind: 'json' as const, text: factory.build('json', bytes, i) })),
    ];
    const onThreads = await Promise.all(bodies.map((body) => pool.parse(body.kind, body.text)));
    const onMain = bodies.map((body) => parseBody(body.kind, body.text));
    expect(onThreads).toEqual(onMain);
    expect(onThreads.map((page) => page.title)).toEqual(['', 'Page 1', 'Page 2', 'Page 3', 'Page 4', 'Page 0', 'Page 1', 'Page 2']);
  });

  it('writes the same rows when the scraper parses on the pool', async () => {
    const scenario = scenarioSchema.parse({
      name: 'pool',
      seed: 2,
      requests: [{ host: 'a.example', count: 12 }],
      hosts: { 'a.example': { latencyMs: { dist: 'fixed', value: 2 }, bodyBytes: { dist: 'uniform', min: 2000, max: 30_000 } } },
      work: { parse: 'html', threads: 2 },
      client: { library: 'undici' },
    });
    const backend = new UndiciBackend({ scenario, timeScale: 1 });
    backend.start();
    const rowsOf = async (withPool: boolean): Promise<Row[]> => {
      backend.beginInvocation();
      const rows: Row[] = [];
      const sink = new ModelSink(scenario, 1);
      const recording = {
        write: (row: Row) => (rows.push(row), sink.write(row)),
        flush: () => sink.flush(),
        get rowsWritten() {
          return sink.rowsWritten;
        },
      };
      await runScraper(scenario, { concurrency: 4, timeScale: 1, sink: recording, ...(withPool ? { pool } : {}) });
      return rows.sort((a, b) => a.url.localeCompare(b.url));
    };
    try {
      const main = await rowsOf(false);
      const threaded = await rowsOf(true);
      expect(threaded).toEqual(main);
      expect(threaded).toHaveLength(12);
      expect(threaded[0]).toMatchObject({ url: 'https://a.example/page/0', title: 'Page 0' });
    } finally {
      backend.stop();
    }
  });
});
