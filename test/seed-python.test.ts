import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCompleted, type Results } from '../harness/results/schema.ts';
import { runScript } from './helpers/cli.ts';
import { namespaces } from './helpers/namespace.ts';
import { scratchDir } from './helpers/scratch.ts';

/**
 * The origin story's own function, unchanged: Python, requests on a thread pool, BeautifulSoup,
 * rows to PostgreSQL through psycopg2, read from its SAM template, swept as Lambda would run it.
 * It needs its venv (.ci/run makes it), a PostgreSQL (DATABASE_URL) and network namespaces; CI
 * has all three and must never skip it.
 */

const VENV_PYTHON = 'scenarios/seed-python/.venv/bin/python';
const required = process.env.FANOUT_REQUIRE_POSTGRES === '1' && process.env.FANOUT_REQUIRE_NAMESPACE === '1';
const available = existsSync(VENV_PYTHON) && Boolean(process.env.DATABASE_URL) && namespaces.available;
if (!available && !required) console.log('skipping the Python seed function: it needs its venv, DATABASE_URL and root on Linux (.ci/run sets them up)');

describe.runIf(available || required)('the Python seed function', () => {
  it('sweeps at 60 workers as its team deployed it: every page fetched over its own TLS connection, every row in the database', () => {
    const out = join(scratchDir('seed-python'), 'results.json');
    const run = runScript(
      'sweep',
      ['scenarios/seed-python/seed-python.json', '--concurrency', '60', '--memory', '1769', '--reps', '1', '--no-report', '--out', out],
      { timeoutMs: 180_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(results.method.backend).toBe('net');
    const cell = results.cells[0]!;
    if (!isCompleted(cell)) throw new Error(`${cell.state}: ${'error' in cell ? cell.error : ''}`);
    const rep = cell.reps[0]!;
    expect(rep.requests).toBe(100);
    expect(rep.errors).toBe(0);
    // requests.get without a Session opens a connection per request: 100 pages, a retried 503 or two.
    expect(rep.connectionsOpened).toBeGreaterThanOrEqual(100);
    expect(rep.rowsWritten).toBe(100);
    // The slow archive page bounds the run at about 7.5 s; the function's own CPU adds to it.
    expect(cell.durationMs.median / 1000).toBeGreaterThan(7.3);
    expect(cell.durationMs.median / 1000).toBeLessThan(12);
    // A Python process with requests, BeautifulSoup and psycopg2 loaded, measured by its memory cgroup.
    expect(rep.peakRssMb).toBeGreaterThan(20);
  }, 200_000);
});
