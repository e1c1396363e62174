// A Lambda function as its author would write it: fetch the pages of the event, MAX_WORKERS at a
// time, with Node's global fetch, and read each page's <title>. fanout-tuner runs this file
// unchanged through the Lambda Runtime API; the pages come from the scenario's hosts.

const MAX_WORKERS = Number(process.env.MAX_WORKERS ?? '8');
const TIMEOUT_MS = 10_000;
const TITLE = /<title[^>]*>([\s\S]*?)<\/title>/i;

async function fetchTitle(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const html = await response.text();
  if (!response.ok) return { ok: false, status: response.status };
  const match = TITLE.exec(html);
  return { ok: true, title: match ? match[1].trim() : '' };
}

/** Runs `task` on every item, at most `width` at a time. */
async function pool(items, width, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]);
      } catch (error) {
        results[index] = { ok: false, error: String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

export const handler = async (event, context) => {
  const urls = event.urls ?? [];
  const pages = await pool(urls, MAX_WORKERS, fetchTitle);
  const fetched = pages.filter((page) => page.ok);
  return {
    pages: urls.length,
    fetched: fetched.length,
    titled: fetched.filter((page) => page.title).length,
    failed: pages.length - fetched.length,
    maxWorkers: MAX_WORKERS,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
