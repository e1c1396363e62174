/**
 * Loaded into the recorded job's Node process (and its child Node processes) through
 * NODE_OPTIONS by `npm run record`. msw's interceptors watch every request made with global
 * fetch or node:http/https without answering it, so each one goes to the real server
 * (passthrough); each finished exchange is appended as one JSON line to FANOUT_RECORD_FILE.
 */
import { appendFileSync } from 'node:fs';
import { BatchInterceptor } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { FetchInterceptor } from '@mswjs/interceptors/fetch';
import { RECORD_FILE_VARIABLE, type RecordedExchange } from './recording.ts';

const file = process.env[RECORD_FILE_VARIABLE];

/** Milliseconds since the epoch, sub-millisecond, comparable across the job's processes. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

if (file) {
  const pending = new Map<string, { url: string; method: string; startedMs: number }>();
  const write = (exchange: RecordedExchange) => appendFileSync(file, `${JSON.stringify(exchange)}\n`);
  const interceptor = new BatchInterceptor({ name: 'fanout-tuner-record', interceptors: [new ClientRequestInterceptor(), new FetchInterceptor()] });
  interceptor.apply();
  const failed = (requestId: string) => {
    const started = pending.get(requestId);
    if (!started) return;
    pending.delete(requestId);
    write({ ...started, status: 0, mimeType: '', waitMs: nowMs() - started.startedMs, receiveMs: 0, bodyBytes: 0 });
  };
  interceptor.on('request', ({ request, requestId }) => {
    // No answer: the request goes on to the network as it would without the recorder.
    pending.set(requestId, { url: request.url, method: request.method, startedMs: nowMs() });
    // A request the job gives up on (its timeout) failed then, not at the process's exit.
    request.signal.addEventListener('abort', () => failed(requestId), { once: true });
  });
  interceptor.on('response', ({ response, requestId }) => {
    const started = pending.get(requestId);
    if (!started) return;
    const headersMs = nowMs();
    // A clone of the body, read to its end, tells its size and when its last byte came; the
    // job reads the original as it would without the recorder.
    void response
      .clone()
      .arrayBuffer()
      .then(
        (body) => ({ bodyBytes: body.byteLength, failed: false }),
        () => ({ bodyBytes: 0, failed: true }),
      )
      .then(({ bodyBytes, failed }) => {
        pending.delete(requestId);
        write({
          ...started,
          status: failed ? 0 : response.status,
          mimeType: response.headers.get('content-type') ?? '',
          waitMs: headersMs - started.startedMs,
          receiveMs: nowMs() - headersMs,
          bodyBytes,
        });
      });
  });
  process.on('exit', () => {
    // Requests that never got an answer (refused, reset, still waiting): failed, up to now.
    for (const requestId of [...pending.keys()]) failed(requestId);
  });
}
