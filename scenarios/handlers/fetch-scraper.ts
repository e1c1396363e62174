/**
 * An example handler: a news scraper as it would run on Lambda. It fetches every page with the
 * global fetch, MAX_WORKERS at a time (p-limit), retries a 429 or a 5xx once after the wait the
 * server asks for, pulls the title and counts the links, and writes one row per page.
 *
 * Point a scenario at it with  "workload": { "module": "./handlers/fetch-scraper.ts" }.
 */
import pLimit from 'p-limit';
import type { Handler, HandlerRow } from '../../harness/workload/handler.ts';

const TIMEOUT_MS = 5_000;
const RETRIES = 1;

function parsePage(url: string, html: string): HandlerRow {
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() ?? '';
  const links = html.match(/<a\s[^>]*href=/gi)?.length ?? 0;
  return { url, title, links };
}

function waitMs(response: Response, attempt: number): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 100 * 2 ** attempt;
}

async function fetchPage(url: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (response.ok) return await response.text();
      await response.arrayBuffer();
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= RETRIES) return undefined;
      await new Promise((resolve) => setTimeout(resolve, waitMs(response, attempt)));
    } catch {
      if (attempt >= RETRIES) return undefined;
    }
  }
}

export const handler: Handler = async ({ urls, sink }) => {
  const limit = pLimit(Number(process.env.MAX_WORKERS) || 10);
  await Promise.all(
    urls.map((url) =>
      limit(async () => {
        const html = await fetchPage(url);
        if (html !== undefined) await sink.write(parsePage(url, html));
      }),
    ),
  );
};
