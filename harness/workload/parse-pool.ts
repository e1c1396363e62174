import { Piscina } from 'piscina';
import type { ParseTask } from './parse-worker.ts';
import type { ParsedPage } from './parse.ts';

/** Parses response bodies on worker threads (work.threads > 0), off the event loop. */
export interface ParsePool {
  parse(kind: ParseTask['kind'], text: string): Promise<ParsedPage>;
  close(): Promise<void>;
}

const WORKER = new URL('./parse-worker.ts', import.meta.url).href;

/**
 * A piscina pool of `threads` workers, all started at once (their start-up belongs to the
 * warm-up, not to a timed invocation). Run from TypeScript sources, each worker loads tsx
 * itself: a worker gets only the execArgv it is given, and V8 flags such as the cell's heap
 * limit are refused there.
 */
export function createParsePool(threads: number): ParsePool {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const pool = new Piscina<ParseTask, ParsedPage>({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    execArgv: WORKER.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [],
  });
  return {
    parse: (kind, text) => pool.run({ kind, text }),
    close: () => pool.destroy(),
  };
}
