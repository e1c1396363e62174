import { request } from 'node:http';

/**
 * A call to a fence host's control socket: from the cell (begin an invocation, read the servers'
 * tally) or from the sweep (invoke a deployed function through the Runtime API). JSON in, text out.
 */
export function callFence(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const call = request(
      { socketPath, method, path, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          response.statusCode && response.statusCode < 300 ? resolve(text) : reject(new Error(`fence control ${path}: ${response.statusCode} ${text}`)),
        );
      },
    );
    call.on('error', reject);
    call.end(payload);
  });
}
