/**
 * The contract between fanout-tuner and a user's own handler (scenario field `workload`).
 * Import the types into your handler module with
 *
 *   import type { Handler } from '<path to fanout-tuner>/harness/workload/handler.ts';
 *
 * The harness calls the handler once per invocation in the cell's child process, with
 * `process.env.MAX_WORKERS` set to the concurrency as a Lambda's configuration would. Every HTTP
 * request it sends (global fetch, node:http/https, axios, got, undici) is answered by the
 * scenario's mocked hosts; a request to any other host fails with an error naming its URL.
 * Requests, retries and errors are counted on the mock's side, so the handler reports nothing.
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
