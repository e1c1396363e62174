import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import pLimit from 'p-limit';
import { BENCH_HOST } from './overhead-spec.ts';

/**
 * The obvious hand-written harness issue 6 measured as the reference: an msw handler that
 * awaits msw's `delay`, global fetch, p-limit. Nothing in it is tuned.
 */
export function startNaiveMock(latencyMs: number, bodyBytes: number): () => void {
  const body = 'x'.repeat(bodyBytes);
  const server = setupServer(
    http.get(`https://${BENCH_HOST}/*`, async () => {
      await delay(latencyMs);
      return HttpResponse.text(body);
    }),
  );
  server.listen({ onUnhandledRequest: 'error' });
  return () => server.close();
}

export async function runNaiveJob(requests: number, concurrency: number): Promise<{ durationMs: number; errors: number }> {
  const limit = pLimit(concurrency);
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: requests }, (_, i) =>
      limit(async () => {
        try {
          const response = await fetch(`https://${BENCH_HOST}/page/${i}`);
          await response.text();
        } catch {
          errors++;
        }
      }),
    ),
  );
  return { durationMs: performance.now() - started, errors };
}
