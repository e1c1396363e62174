import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import axios from 'axios';
import got from 'got';
import { fetch as undiciFetch, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMocks, type Mocks } from '../harness/mock/all-clients.ts';
import { scenarioSchema } from '../harness/scenario/schema.ts';

/**
 * No request leaves the machine, whatever the client: a sentinel server on 127.0.0.1 is the
 * target of every unlisted URL, and must never see a connection; a name no resolver knows
 * (*.invalid) must never be looked up.
 */

function nodeGet(module: typeof http | typeof https, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    module
      .get(url, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const CLIENTS: Record<string, (url: string) => Promise<unknown>> = {
  'global fetch': (url) => fetch(url).then((r) => r.text()),
  'node:http': (url) => nodeGet(http, url),
  'node:https': (url) => nodeGet(https, url.replace(/^http:/, 'https:')),
  axios: (url) => axios.get<string>(url, { responseType: 'text' }).then((r) => r.data),
  got: (url) => got(url, { retry: { limit: 0 } }).text(),
  'undici.request': (url) => undiciRequest(url).then((r) => r.body.text()),
  'undici.fetch': (url) => undiciFetch(url).then((r) => r.text()),
};

/** The error's message and its causes' (fetch wraps the real reason in `cause`). */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

async function failureOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    return messages(error);
  }
  return 'the request succeeded';
}

describe('zero egress', () => {
  let sentinel: net.Server;
  let port = 0;
  let connections = 0;
  let mocks: Mocks;
  const lookup = vi.spyOn(dns, 'lookup');
  // msw prints each refused request; the assertions below check the errors themselves.
  const printed = vi.spyOn(console, 'error').mockImplementation(() => {});

  beforeAll(async () => {
    sentinel = net.createServer((socket) => socket.destroy());
    sentinel.on('connection', () => connections++);
    await new Promise<void>((resolve) => sentinel.listen(0, '127.0.0.1', resolve));
    port = (sentinel.address() as net.AddressInfo).port;
    const scenario = scenarioSchema.parse({
      name: 'egress',
      seed: 1,
      requests: [{ host: 'served.example', count: 1 }],
      hosts: { 'served.example': { latencyMs: { dist: 'fixed', value: 1 } } },
    });
    mocks = startMocks({ scenario, timeScale: 1 });
  });

  afterAll(async () => {
    mocks.stop();
    lookup.mockRestore();
    printed.mockRestore();
    await new Promise((resolve) => sentinel.close(resolve));
  });

  it('serves the scenario host to every client, so the sentinel proves only the refusals', async () => {
    for (const [name, call] of Object.entries(CLIENTS)) {
      // The scenario's URLs are https; node:http cannot send those.
      if (name === 'node:http') continue;
      mocks.beginInvocation();
      const body = await call('https://served.example/page/0');
      expect(String(body), name).toContain('<title>Page 0</title>');
    }
  });

  it.each(Object.keys(CLIENTS))('refuses an unlisted address through %s with an error naming the URL, and opens no socket', async (name) => {
    mocks.beginInvocation();
    const url = `http://127.0.0.1:${port}/secret/${encodeURIComponent(name)}`;
    const shown = name === 'node:https' ? url.replace(/^http:/, 'https:') : url;
    const failure = await failureOf(() => CLIENTS[name]!(url));
    expect(failure).toContain(`request to ${shown} was blocked`);
    expect(mocks.unmockedRequests()).toEqual([shown]);
    expect(connections).toBe(0);
  });

  it.each(Object.keys(CLIENTS))('refuses an unlisted host name through %s without looking it up', async (name) => {
    mocks.beginInvocation();
    lookup.mockClear();
    const url = `http://unlisted.invalid/${encodeURIComponent(name)}`;
    const shown = name === 'node:https' ? url.replace(/^http:/, 'https:') : url;
    const failure = await failureOf(() => CLIENTS[name]!(url));
    expect(failure).toContain(`request to ${shown} was blocked`);
    expect(lookup).not.toHaveBeenCalled();
    expect(connections).toBe(0);
  });

  it('would have seen a connection: with the mocks stopped, the same client reaches the sentinel', async () => {
    mocks.stop();
    await failureOf(() => CLIENTS['node:http']!(`http://127.0.0.1:${port}/after-stop`));
    expect(connections).toBe(1);
  });
});
