import { sortSamples } from '../analyze/statistics.ts';

/**
 * What `npm run record` sees of a job, and the HAR it turns that into. Pure: recorded exchanges
 * in, a HAR 1.2 log out, which the HAR importer (harness/scenario/har.ts) makes a scenario of,
 * so a recording and a browser session become scenarios by one set of rules.
 */

/** The environment variable that tells the preload where to append its lines. */
export const RECORD_FILE_VARIABLE = 'FANOUT_TUNER_RECORD_FILE';

/** One request and its response, as the preload appends it. */
export interface RecordedExchange {
  url: string;
  method: string;
  /** Epoch ms (sub-millisecond) when the job sent the request. */
  startedMs: number;
  /** 0 for a request that failed without an answer. */
  status: number;
  mimeType: string;
  /** From sending the request to the response headers: the connection's set-up included when it was new. */
  waitMs: number;
  /** From the headers to the body's last byte. */
  receiveMs: number;
  bodyBytes: number;
}

/** Reads the preload's lines; a line cut short by a killed process is left out. */
export function parseRecording(text: string): RecordedExchange[] {
  const exchanges: RecordedExchange[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      exchanges.push(JSON.parse(line) as RecordedExchange);
    } catch {
      // A partial last line: the process was killed while writing it.
    }
  }
  return exchanges.sort((a, b) => a.startedMs - b.startedMs);
}

/** From the first request sent to the last byte received, in ms: the part of the run the scenario models. */
export function requestSpanMs(exchanges: readonly RecordedExchange[]): number {
  if (exchanges.length === 0) return 0;
  const starts = sortSamples(exchanges.map((e) => e.startedMs));
  const ends = sortSamples(exchanges.map((e) => e.startedMs + e.waitMs + e.receiveMs));
  return ends[ends.length - 1]! - starts[0]!;
}

/**
 * A HAR 1.2 log of the exchanges: each one's time split into `wait` (to the headers) and
 * `receive` (the body), `connect` unknown (-1), since the wait already holds any set-up.
 */
export function recordingToHar(exchanges: readonly RecordedExchange[], creator: { name: string; version: string }): unknown {
  return {
    log: {
      version: '1.2',
      creator,
      entries: exchanges.map((e) => ({
        startedDateTime: new Date(e.startedMs).toISOString(),
        time: e.waitMs + e.receiveMs,
        request: { method: e.method, url: e.url, httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: -1 },
        response: {
          status: e.status,
          statusText: '',
          httpVersion: 'HTTP/1.1',
          headers: [],
          cookies: [],
          content: { size: e.bodyBytes, mimeType: e.mimeType },
          redirectURL: '',
          headersSize: -1,
          bodySize: e.bodyBytes,
        },
        cache: {},
        timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: e.waitMs, receive: e.receiveMs },
      })),
    },
  };
}
