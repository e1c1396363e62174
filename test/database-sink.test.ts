import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResults } from '../harness/results/io.ts';
import { parseScenario } from '../harness/scenario/load.ts';
import type { ScenarioInput } from '../harness/scenario/schema.ts';
import { createTableSql, DatabaseSink, insertParams, insertSql, resolveConnectionString } from '../harness/workload/database.ts';
import { hasStackTrace, runScript } from './helpers/cli.ts';
import { quickScenario, writeScenario } from './helpers/scenario-files.ts';
import { scratchDir } from './helpers/scratch.ts';

const ROWS = [0, 1, 2, 3, 4].map((i) => ({ url: `https://site.example/page/${i}`, title: `Page ${i}`, links: i * 10 }));

/** Writes the rows as five workers would: each awaits its own write, all at once. */
async function writeConcurrently(sink: DatabaseSink): Promise<void> {
  await Promise.all(ROWS.map((row) => sink.write(row)));
}

function sweepInto(scenario: ScenarioInput, dir?: string): { code: number | null; stderr: string; out: string } {
  const { file, dir: scenarioDir } = writeScenario(scenario, dir);
  const out = join(scenarioDir, 'results', 'out.json');
  const run = runScript('sweep', [file, '--concurrency', '1,4', '--reps', '1', '--out', out, '--no-report']);
  return { code: run.code, stderr: run.stderr, out };
}

describe('the SQL of the database sinks', () => {
  it('creates the table with the row columns and a write time, only if missing', () => {
    expect(createTableSql('fanout_rows')).toBe(
      'CREATE TABLE IF NOT EXISTS fanout_rows (id bigserial PRIMARY KEY, url text NOT NULL, title text NOT NULL, links integer NOT NULL, written_at timestamptz NOT NULL DEFAULT now())',
    );
  });

  it('writes a batch as one multi-row INSERT with numbered parameters', () => {
    expect(insertSql('fanout_rows', 2)).toBe('INSERT INTO fanout_rows (url, title, links) VALUES ($1, $2, $3), ($4, $5, $6)');
    expect(insertParams(ROWS.slice(0, 2))).toEqual(['https://site.example/page/0', 'Page 0', 0, 'https://site.example/page/1', 'Page 1', 10]);
  });

  it('reads env:NAME from the environment and takes a postgres:// URL as it is', () => {
    expect(resolveConnectionString('env:DB', { DB: 'postgres://u@h/d' })).toBe('postgres://u@h/d');
    expect(resolveConnectionString('env:DB', {})).toBeUndefined();
    expect(resolveConnectionString('env:DB', { DB: '' })).toBeUndefined();
    expect(resolveConnectionString('postgres://u@h/d', {})).toBe('postgres://u@h/d');
  });

  it('accepts latencyMs only for the model sink', () => {
    const base = quickScenario();
    expect(() => parseScenario({ ...base, sink: { kind: 'postgres', url: 'env:DATABASE_URL', latencyMs: { dist: 'fixed', value: 5 } } }, 's.json')).toThrow(
      /s\.json: sink: Unrecognized key: "latencyMs"/,
    );
    expect(() => parseScenario({ ...base, sink: { kind: 'mysql' } }, 's.json')).toThrow(/sink\.kind: must be "model", "postgres" or "pglite"/);
    const pglite = parseScenario({ ...base, sink: { kind: 'pglite' } }, 's.json');
    expect(pglite.sink).toEqual({ kind: 'pglite', table: 'fanout_rows', poolSize: 5, batchSize: 1 });
    // A sink without a kind is the model, as before kinds existed.
    expect(parseScenario(base, 's.json').sink.kind).toBe('model');
  });
});

describe('the PGlite sink', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await PGlite.create();
    await db.query(createTableSql('fanout_rows'));
  });
  afterAll(() => db.close());

  it('writes full batches as they fill and the rest on flush, and the rows are in the table', async () => {
    const sink = new DatabaseSink(db, 'fanout_rows', 2);
    await writeConcurrently(sink);
    // Two full batches of two; the fifth row waits in the buffer.
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fanout_rows')).rows[0]!.n).toBe(4);
    await sink.flush();
    expect(sink.rowsWritten).toBe(5);
    const rows = await db.query<{ url: string; title: string; links: number }>('SELECT url, title, links FROM fanout_rows ORDER BY links');
    expect(rows.rows).toEqual(ROWS);
  });

  it("takes the rows of the user's handler in a sweep, into a database directory beside the scenario", async () => {
    const dir = scratchDir('pglite');
    const scenario = JSON.parse(readFileSync('scenarios/handler-fetch.json', 'utf8')) as ScenarioInput;
    const run = sweepInto(
      {
        ...scenario,
        $schema: undefined,
        workload: { module: resolve('scenarios/handlers/fetch-scraper.ts'), export: 'handler' },
        sink: { kind: 'pglite', dataDir: './db', table: 'pages', poolSize: 2, batchSize: 5 },
      },
      dir,
    );
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);
    expect(loadResults(run.out).cells.map((cell) => cell.state)).toEqual(['completed', 'completed']);

    const written = await PGlite.create(join(dir, 'db'));
    try {
      const counts = await written.query<{ rows: number; urls: number; linked: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT url)::int AS urls, count(*) FILTER (WHERE links > 0)::int AS linked FROM pages',
      );
      // 24 pages per invocation; two cells of one warm-up and one timed invocation each.
      expect(counts.rows[0]).toEqual({ rows: 96, urls: 24, linked: 96 });
    } finally {
      await written.close();
    }
  });
});

describe('a PostgreSQL sink the sweep cannot use', () => {
  it('is refused before the sweep starts when its variable is not set, naming sink.url', () => {
    const run = sweepInto(quickScenario({ sink: { kind: 'postgres', url: 'env:FANOUT_TEST_UNSET_DATABASE_URL' } }));
    expect(run.code).toBe(2);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('sink.url: the environment variable FANOUT_TEST_UNSET_DATABASE_URL is not set');
    expect(run.stderr).toContain('Fix: export FANOUT_TEST_UNSET_DATABASE_URL=postgres://');
  });

  it('is refused before the sweep starts when no server answers, naming sink.url', () => {
    const run = sweepInto(quickScenario({ sink: { kind: 'postgres', url: 'postgres://nobody:secret@127.0.0.1:1/none' } }));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('sink.url: cannot write to the PostgreSQL database it names (connect ECONNREFUSED 127.0.0.1:1)');
  });
});

/**
 * Against a real server: DATABASE_URL names it. CI (.ci/run) installs and starts Debian's
 * postgresql and sets FANOUT_REQUIRE_POSTGRES=1, so a missing server fails there instead of
 * skipping silently.
 */
const databaseUrl = process.env.DATABASE_URL;
const requirePostgres = process.env.FANOUT_REQUIRE_POSTGRES === '1';
if (!databaseUrl && !requirePostgres) {
  console.warn(
    'Skipping the PostgreSQL sink tests: DATABASE_URL is not set (export DATABASE_URL=postgres://USER:PASSWORD@HOST/DB; FANOUT_REQUIRE_POSTGRES=1 turns this into a failure).',
  );
}

describe.skipIf(!databaseUrl && !requirePostgres)('the PostgreSQL sink', () => {
  const table = `fanout_test_${process.pid}`;
  let pool: pg.Pool;
  beforeAll(() => {
    if (!databaseUrl) throw new Error('FANOUT_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: start PostgreSQL and export DATABASE_URL');
    pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  });
  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`);
    await pool?.query(`DROP TABLE IF EXISTS ${table}_sweep`);
    await pool?.end();
  });

  it('writes full batches as they fill and the rest on flush, and the rows are in the table', async () => {
    await pool.query(createTableSql(table));
    const sink = new DatabaseSink(pool, table, 2);
    await writeConcurrently(sink);
    await sink.flush();
    expect(sink.rowsWritten).toBe(5);
    const rows = await pool.query<{ url: string; title: string; links: number }>(`SELECT url, title, links FROM ${table} ORDER BY links`);
    expect(rows.rows).toEqual(ROWS);
  });

  it('takes every row of a sweep, creating its table, with the connection string read from env:DATABASE_URL', async () => {
    const run = sweepInto(quickScenario({ sink: { kind: 'postgres', url: 'env:DATABASE_URL', table: `${table}_sweep`, poolSize: 3, batchSize: 3 } }));
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.code).toBe(0);
    expect(loadResults(run.out).cells.map((cell) => cell.state)).toEqual(['completed', 'completed']);
    const counts = await pool.query<{ rows: number; urls: number }>(`SELECT count(*)::int AS rows, count(DISTINCT url)::int AS urls FROM ${table}_sweep`);
    // 8 pages per invocation; two cells of one warm-up and one timed invocation each.
    expect(counts.rows[0]).toEqual({ rows: 32, urls: 8 });
  });
});
