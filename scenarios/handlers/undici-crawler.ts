/**
 * An example handler: a crawler on undici's request API (the fastest HTTP client for Node), with
 * MAX_WORKERS requests in flight through p-limit. It streams each page's body, keeps the title
 * and counts the links, and writes a row per page.
 *
 * Point a scenario at it with  "workload": { "module": "./handlers/undici-crawler.ts" }.
 */
import pLimit from 'p-limit';
import { request } from 'undici';
import type { Handler } from '../../harness/workload/handler.ts';

async function crawl(url: string): Promise<{ title: string; links: number } | undefined> {
  const { statusCode, body } = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  if (statusCode !== 200) {
    await body.dump();
    return undefined;
  }
  const html = await body.text();
  return {
    title: /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() ?? '',
    links: html.match(/<a\s[^>]*href=/gi)?.length ?? 0,
  };
}

export const handler: Handler = async ({ urls, sink }) => {
  const limit = pLimit(Number(process.env.MAX_WORKERS) || 10);
  await Promise.all(
    urls.map((url) =>
      limit(async () => {
        // A page that fails is skipped, as a crawler would; the mock counts the failure.
        const page = await crawl(url).catch(() => undefined);
        if (page) await sink.write({ url, ...page });
      }),
    ),
  );
};
