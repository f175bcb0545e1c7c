/**
 * `logship health`: GET /healthz where the agent listens — the container
 * image's HEALTHCHECK. The address comes from the same configuration as
 * `run` reads (the file, and LOGSHIP_METRICS_LISTEN where the file sets no
 * metrics.listen), so the probe follows the setting instead of repeating it.
 * Exit 0: healthy; 1: no answer, or not 200; 2: nothing to probe (invalid
 * configuration, metrics disabled, port 0).
 */
import { get } from 'node:http';
import type { CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

/** Docker's HEALTHCHECK default --timeout is 30 s; the image's is 3 s: answer before it. */
const PROBE_TIMEOUT_MS = 2000;

interface HealthArgs {
  config?: string;
  listen?: string;
}

/** http://…/healthz for a metrics.listen value; a wildcard address is probed on loopback. */
export function healthUrl(listen: string, source: string): URL {
  const url = URL.parse(`http://${listen}/healthz`);
  if (url === null || url.port === '' || url.port === '0') throw new ConfigError(source, [`${listen}: not a host:port to probe (port 0 takes any free port)`]);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  else if (url.hostname === '[::]') url.hostname = '[::1]';
  return url;
}

/** node:http rather than fetch, which refuses some ports (its "bad ports") a listen address may use. */
function probe(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

function listenAddress(argv: HealthArgs): string {
  if (argv.listen) return argv.listen;
  const config = loadConfig(argv.config);
  if (!config.metrics.enabled) throw new ConfigError(argv.config ?? 'command line', ['metrics.enabled is false: no /healthz to probe']);
  return config.metrics.listen;
}

export const healthCommand: CommandModule<object, HealthArgs> = {
  command: 'health',
  describe: "GET /healthz at the configuration's metrics.listen (the image's HEALTHCHECK)",
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (the one the agent runs with)' })
      .option('listen', { type: 'string', describe: 'host:port to probe instead of the configuration' })
      .check((argv) => {
        if (!argv.config && !argv.listen) throw new Error('give --config FILE (or --listen host:port)');
        return true;
      }),
  handler: async (argv) => {
    let url: URL;
    try {
      url = healthUrl(listenAddress(argv), argv.listen ? '--listen' : (argv.config ?? 'command line'));
    } catch (err) {
      process.stderr.write(`logship health: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    try {
      const { status, body } = await probe(url);
      process.stdout.write(`${url.href}: ${status} ${body}\n`);
      process.exit(status === 200 ? EXIT_OK : EXIT_FAILURE);
    } catch (err) {
      process.stdout.write(`${url.href}: no answer (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
      process.exit(EXIT_FAILURE);
    }
  },
};
