import { isAbsolute, resolve } from 'node:path';
import type { Scenario, SinkSpec } from '../scenario/schema.ts';
import { BatchingSink, ModelSink, type Row, type Sink } from './sink.ts';

/**
 * The real database sinks: PostgreSQL through pg's pool, or PGlite embedded in the cell process.
 * Both are written the way the model sink is (docs/job-model.md): rows are buffered, and the worker
 * whose row fills a batch of `batchSize` sends one multi-row INSERT and waits for it; at most
 * `poolSize` writes run at once (pg's pool queues the rest in order; PGlite runs one at a time).
 */

/** What a batch write needs of a client; pg's Pool and PGlite both have it. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

const COLUMNS = ['url', 'title', 'links'] as const;

export function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, url text NOT NULL, title text NOT NULL, links integer NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`;
}

/** One INSERT for `rows` rows: `($1, $2, $3), ($4, $5, $6), ...`. */
export function insertSql(table: string, rows: number): string {
  const tuples = Array.from({ length: rows }, (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`);
  return `INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
}

export function insertParams(rows: readonly Row[]): Array<string | number> {
  return rows.flatMap((row) => [row.url, row.title, row.links]);
}

/** One invocation's writes to a real database: one multi-row INSERT per batch. */
export class DatabaseSink extends BatchingSink {
  constructor(
    private readonly client: SqlClient,
    private readonly table: string,
    batchSize: number,
  ) {
    super(batchSize);
  }

  protected async writeRows(rows: Row[]): Promise<void> {
    await this.client.query(insertSql(this.table, rows.length), insertParams(rows));
  }
}

/** Where a cell's invocations write: a fresh Sink per invocation, one connection pool per cell. */
export interface SinkProvider {
  readonly kind: SinkSpec['kind'];
  /** A sink for one invocation; a model sink runs its latencies `timeScale` times shorter. */
  forInvocation(timeScale?: number): Sink;
  close(): Promise<void>;
}

/** The value of a `sink.url`: `env:NAME` read from the environment, or the URL itself. */
export function resolveConnectionString(url: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!url.startsWith('env:')) return url;
  const value = env[url.slice('env:'.length)];
  return value ? value : undefined;
}

export function missingVariableMessage(url: string): string {
  return `the environment variable ${url.slice('env:'.length)} is not set (sink.url is "${url}")`;
}

/** A relative `dataDir` (or handler module) is relative to the scenario file's directory. */
export function resolveFromScenario(scenarioDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(scenarioDir, path);
}

/**
 * Opens the scenario's sink for a cell: connects (or starts PGlite) and creates the table. pg and
 * PGlite are loaded only when asked for, so a model sink costs nothing.
 */
export async function openSink(scenario: Scenario, timeScale: number, scenarioDir: string): Promise<SinkProvider> {
  const spec = scenario.sink;
  switch (spec.kind) {
    case 'model':
      return { kind: 'model', forInvocation: (invocationScale = timeScale) => new ModelSink(scenario, invocationScale), close: async () => {} };
    case 'postgres': {
      const connectionString = resolveConnectionString(spec.url, process.env);
      if (!connectionString) throw new Error(missingVariableMessage(spec.url));
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({ connectionString, max: spec.poolSize });
      // An idle connection the server drops would otherwise crash the cell; the next query fails instead.
      pool.on('error', () => {});
      try {
        await pool.query(createTableSql(spec.table));
      } catch (error) {
        await pool.end();
        throw new Error(`cannot use the PostgreSQL sink: ${(error as Error).message}`);
      }
      return {
        kind: 'postgres',
        forInvocation: () => new DatabaseSink(pool, spec.table, spec.batchSize),
        close: () => pool.end(),
      };
    }
    case 'pglite': {
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(spec.dataDir ? resolveFromScenario(scenarioDir, spec.dataDir) : undefined);
      await db.query(createTableSql(spec.table));
      return {
        kind: 'pglite',
        forInvocation: () => new DatabaseSink(db, spec.table, spec.batchSize),
        close: () => db.close(),
      };
    }
  }
}
