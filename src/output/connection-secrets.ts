import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../config/load.ts';
import type { OutputDeliveryConfig } from '../config/types.ts';

function readSetting(file: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(setting, [`${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

/**
 * An output's password, from an environment variable or a file (never the
 * configuration itself), and its TLS options for node:tls. Files are read
 * once, at start-up; a missing one, or a variable not set, is a
 * configuration error naming the setting (`section` is e.g. output.redis).
 */
export function connectionSecrets(settings: OutputDeliveryConfig, section: string, env: NodeJS.ProcessEnv = process.env): { password?: string; tls?: ConnectionOptions } {
  const out: { password?: string; tls?: ConnectionOptions } = {};
  if (settings.password_env !== undefined) {
    const value = env[settings.password_env];
    if (!value) throw new ConfigError(`${section}.password_env`, [`${section}.password_env: environment variable ${settings.password_env} is not set`]);
    out.password = value;
  } else if (settings.password_file !== undefined) {
    out.password = readSetting(settings.password_file, `${section}.password_file`).replace(/\r?\n$/, '');
  }
  const tls = settings.tls;
  if (tls?.enabled) {
    const options: ConnectionOptions = { rejectUnauthorized: tls.verify };
    if (tls.ca_file) options.ca = readSetting(tls.ca_file, `${section}.tls.ca_file`);
    if (tls.cert_file) options.cert = readSetting(tls.cert_file, `${section}.tls.cert_file`);
    if (tls.key_file) options.key = readSetting(tls.key_file, `${section}.tls.key_file`);
    if (tls.server_name) options.servername = tls.server_name;
    out.tls = options;
  }
  return out;
}
