/**
 * Where a running agent answers, for the commands that talk to it (`top`,
 * `tap`): --url, or the configuration's metrics.listen as `logship health`
 * reads it (a wildcard address is reached on loopback).
 */
import { ConfigError, loadConfig } from '../config/load.ts';
import { healthUrl } from './health-command.ts';

export interface AgentAddressArgs {
  config?: string;
  url?: string;
}

/** The agent's `path` (e.g. /metrics): --url gives its host and port (http:// may be left out). */
export function agentUrl(argv: AgentAddressArgs, path: string): URL {
  if (argv.url !== undefined) {
    const url = URL.parse(argv.url.includes('://') ? argv.url : `http://${argv.url}`);
    if (url === null || url.protocol !== 'http:' || url.host === '') throw new ConfigError('--url', [`${argv.url}: not an http://host:port address`]);
    url.pathname = path;
    url.search = '';
    return url;
  }
  const config = loadConfig(argv.config);
  if (!config.metrics.enabled) throw new ConfigError(argv.config ?? 'command line', ['metrics.enabled is false: the agent serves no HTTP endpoint to read']);
  const url = healthUrl(config.metrics.listen, argv.config ?? 'command line');
  url.pathname = path;
  return url;
}
