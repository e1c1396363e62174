/**
 * The contract between fanout-tuner and a user's own handler (scenario field `workload`).
 * Import the types into your handler module with
 *
 *   import type { Handler } from '<path to fanout-tuner>/harness/workload/handler.ts';
 *
 * The harness calls the handler once per invocation in the cell's child process, with
 * `process.env.MAX_WORKERS` set to the concurrency as a Lambda's configuration would. The cell
 * runs in a network namespace of its own (where the machine allows it): every request it sends,
 * by any client, socket, Worker or child process, reaches the scenario's hosts or nothing. On the
 * `net` backend they are real servers; in process, msw and an undici dispatcher answer global
 * fetch, node:http/https, axios, got and undici's global dispatcher. A request to any other host
 * fails, and the results name it. Requests, retries and errors are counted on the servers' side,
 * so the handler reports nothing.
 */

/** One row for the database, as the built-in scraper writes it. */
export interface HandlerRow {
  url: string;
  title: string;
  links: number;
}

/** The scenario's database sink (a latency model, PostgreSQL or PGlite). */
export interface HandlerSink {
  /**
   * Adds a row. Resolves at once, or, when the row completes a batch of `sink.batchSize`, once
   * that batch is written. Rows left in the buffer are written after the handler returns, and
   * that final write counts in the invocation's duration.
   */
  write(row: HandlerRow): Promise<void>;
}

export interface HandlerEvent {
  /** The scenario's requests, in order. */
  urls: string[];
  /** The cell's concurrency; also in `process.env.MAX_WORKERS`. */
  concurrency: number;
  sink: HandlerSink;
}

export interface HandlerResult {
  /** Rows the handler wrote somewhere other than `sink` (its own database client), if any. */
  rows?: number;
}

/**
 * A handler: may return nothing. A handler that throws or rejects ends its cell as `errored`
 * with its message; one slower than `lambda.timeoutS` ends it as `timeout`.
 */
export type Handler = (event: HandlerEvent) => Promise<HandlerResult | void> | HandlerResult | void;
