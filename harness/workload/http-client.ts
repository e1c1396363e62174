import { EventEmitter } from 'node:events';
import type { Scenario } from '../scenario/schema.ts';

/** What the job needs from one HTTP attempt. */
export interface Answer {
  status: number;
  /** The body of a 200; empty otherwise (the body is still read, as a real client must). */
  text: string;
  /** For a 429: the wait the server asked for, scenario ms. */
  retryAfterMs: number;
}

/**
 * The client's timeout of one attempt: a timer cleared on the answer (AbortSignal.timeout would
 * stay pending, weakly referenced, until it fires: thousands at a time at high concurrency). The
 * abort handle each client needs is made only when asked for: an AbortSignal for fetch, a plain
 * EventEmitter for undici.request, which accepts one and skips the cost of an EventTarget.
 */
export class AttemptDeadline {
  /** Set when the timer fired: the attempt failed because the client gave up. */
  expired = false;
  private controller: AbortController | undefined;
  private emitter: EventEmitter | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.timer = setTimeout(() => this.expire(), timeoutMs);
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get events(): EventEmitter {
    return (this.emitter ??= new EventEmitter());
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private expire(): void {
    this.expired = true;
    this.controller?.abort(new DOMException('The client gave up waiting for an answer', 'TimeoutError'));
    this.emitter?.emit('abort');
  }
}

/**
 * Whether an attempt failed because the job's process had no file descriptor left for its socket
 * (EMFILE; ENFILE for the whole machine): Lambda's quota of open files (harness/model/lambda.ts),
 * not the host. undici.request rejects with the system error, fetch with it as the cause.
 */
export function outOfFileDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * One GET; rejects on a reset or when the deadline expires (the client's timeout). The body is
 * always read to its end; it is decoded to text only when `text` is asked for (a job that parses).
 */
export type HttpGet = (url: string, deadline: AttemptDeadline, text: boolean) => Promise<Answer>;

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/** Prefers the millisecond header some APIs send; falls back to Retry-After in seconds. */
export function retryAfterMs(headers: HeaderBag): number {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(header(headers, 'retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
}

/** Global fetch: what most Node jobs use. Served by the msw backend. */
export const fetchGet: HttpGet = async (url, deadline, text) => {
  const response = await fetch(url, { signal: deadline.signal });
  if (response.status === 200 && text) return { status: 200, text: await response.text(), retryAfterMs: 0 };
  await response.arrayBuffer();
  return { status: response.status, text: '', retryAfterMs: response.status === 429 ? retryAfterMs(response.headers) : 0 };
};

/**
 * The undici package, loaded by the first request that needs it: a job whose client is global
 * fetch never loads it, as a fetch job on Lambda would not (its modules would count in the job's
 * memory, several MB at the smallest sizes). Its default export is the CommonJS module itself,
 * in Node and in a bundle alike; a bundle's dynamic import has no named exports for it.
 */
let undici: (typeof import('undici'))['default'] | undefined;

/**
 * undici's request API on the global dispatcher, the leanest Node client, given the origin and
 * the path as a client of one API keeps them (undici.request(url) would parse every URL with the
 * WHATWG parser). Served by the undici backend.
 */
export const undiciGet: HttpGet = async (url, deadline, text) => {
  const split = url.indexOf('/', url.indexOf('//') + 2);
  const origin = split < 0 ? url : url.slice(0, split);
  const path = split < 0 ? '/' : url.slice(split);
  const { getGlobalDispatcher } = undici ?? (undici = (await import('undici')).default);
  const response = await getGlobalDispatcher().request({ origin, path, method: 'GET', signal: deadline.events });
  if (response.statusCode === 200 && text) return { status: 200, text: await response.body.text(), retryAfterMs: 0 };
  await response.body.dump();
  return { status: response.statusCode, text: '', retryAfterMs: response.statusCode === 429 ? retryAfterMs(response.headers) : 0 };
};

export function httpGetFor(library: Scenario['client']['library']): HttpGet {
  return library === 'undici' ? undiciGet : fetchGet;
}
