/**
 * An example handler: an API fan-out with axios and a worker pool of its own, the way a
 * ThreadPoolExecutor(max_workers=MAX_WORKERS) would run it. Each worker takes the next URL,
 * GETs the JSON, keeps the title and the number of items, and writes a row.
 *
 * Point a scenario at it with  "workload": { "module": "./handlers/axios-api.ts" }.
 */
import axios, { isAxiosError } from 'axios';
import type { Handler } from '../../harness/workload/handler.ts';

interface ApiPage {
  title: string;
  items: unknown[];
}

const api = axios.create({ timeout: 5_000, headers: { accept: 'application/json' } });

async function getPage(url: string): Promise<ApiPage | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const { data } = await api.get<ApiPage>(url);
      return data;
    } catch (error) {
      const status = isAxiosError(error) ? error.response?.status : undefined;
      // A 4xx other than 429 will not get better with a retry.
      if (status !== undefined && status < 500 && status !== 429) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
  return undefined;
}

export const handler: Handler = async ({ urls, sink }) => {
  const workers = Math.max(1, Number(process.env.MAX_WORKERS) || 10);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < urls.length) {
      const url = urls[next++]!;
      const page = await getPage(url);
      if (!page) continue;
      await sink.write({ url, title: page.title, links: page.items.length });
    }
  }
  await Promise.all(Array.from({ length: Math.min(workers, urls.length) }, worker));
};
