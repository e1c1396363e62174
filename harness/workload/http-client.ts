import { request } from 'undici';
import type { Scenario } from '../scenario/schema.ts';

/** What the job needs from one HTTP attempt. */
export interface Answer {
  status: number;
  /** The body of a 200; empty otherwise (the body is still read, as a real client must). */
  text: string;
  /** For a 429: the wait the server asked for, scenario ms. */
  retryAfterMs: number;
}

/** One GET; rejects on a reset or when `signal` aborts (the client's timeout). */
export type HttpGet = (url: string, signal: AbortSignal) => Promise<Answer>;

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
export const fetchGet: HttpGet = async (url, signal) => {
  const response = await fetch(url, { signal });
  if (response.status === 200) return { status: 200, text: await response.text(), retryAfterMs: 0 };
  await response.arrayBuffer();
  return { status: response.status, text: '', retryAfterMs: response.status === 429 ? retryAfterMs(response.headers) : 0 };
};

/** undici.request: the leanest Node client. Served by the undici backend. */
export const undiciGet: HttpGet = async (url, signal) => {
  const response = await request(url, { signal });
  if (response.statusCode === 200) return { status: 200, text: await response.body.text(), retryAfterMs: 0 };
  await response.body.dump();
  return { status: response.statusCode, text: '', retryAfterMs: response.statusCode === 429 ? retryAfterMs(response.headers) : 0 };
};

export function httpGetFor(library: Scenario['client']['library']): HttpGet {
  return library === 'undici' ? undiciGet : fetchGet;
}
