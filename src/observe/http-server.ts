import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { READY_MEANS, type Readiness } from './readiness.ts';
import type { Tap } from './tap.ts';

export interface Health {
  /** Whether the agent is ready, and why (readiness.ts). */
  readiness(): Readiness;
}

/**
 * /metrics (Prometheus), /healthz (the process answers), /readyz (the
 * pipeline can deliver) and /tap (sample messages, observe/tap.ts).
 * Listens on 127.0.0.1 unless told otherwise.
 */
export async function startHttpServer(listen: string, registry: Registry, health: Health, log: Logger, tap?: Tap): Promise<Server> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => {
          log.error({ err }, 'collecting metrics failed');
          res.writeHead(500).end();
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const { ready, detail } = health.readiness();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${ready ? 'ready' : 'not ready'}: ${detail}\n(${READY_MEANS})\n`);
    } else if (path === '/tap' && tap !== undefined) {
      tap.handle(req, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics, /healthz, /readyz or /tap\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  log.info({ address }, 'metrics and health endpoints listening');
  return server;
}
