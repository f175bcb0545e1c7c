import { get } from 'node:http';

/**
 * GET `url`'s body as text; a status other than 200 is an error carrying
 * the agent's answer. node:http rather than fetch, which refuses some
 * ports (its "bad ports") a listen address may use.
 */
export function getText(url: URL, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url.href}: ${res.statusCode} ${body.trim().slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url.href}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === undefined ? err : new Error(`${url.href}: ${err.code}`)));
  });
}
