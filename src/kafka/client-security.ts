import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigError } from '../config/load.ts';
import type { KafkaConfig } from '../config/types.ts';

function readSetting(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(where, [`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

/** The SASL password, from an environment variable or a file: never the command line or the config file itself. */
function password(config: NonNullable<KafkaConfig['sasl']>, env: NodeJS.ProcessEnv): string {
  if (config.password_env !== undefined) {
    const value = env[config.password_env];
    if (!value) throw new ConfigError('kafka.sasl.password_env', [`environment variable ${config.password_env} is not set`]);
    return value;
  }
  return readSetting(config.password_file!, 'kafka.sasl.password_file').replace(/\r?\n$/, '');
}

/**
 * kafkajs' `ssl` and `sasl` options from the configuration. Files are read
 * once at start-up; a missing one is a configuration error naming the
 * setting. Secrets are returned to the client only, never logged.
 */
export function clientSecurity(config: KafkaConfig, env: NodeJS.ProcessEnv = process.env): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  const out: { ssl?: ConnectionOptions; sasl?: SASLOptions } = {};
  const tls = config.tls;
  if (tls?.enabled) {
    const ssl: ConnectionOptions = { rejectUnauthorized: tls.verify };
    if (tls.ca_file) ssl.ca = readSetting(tls.ca_file, 'kafka.tls.ca_file');
    if (tls.cert_file) ssl.cert = readSetting(tls.cert_file, 'kafka.tls.cert_file');
    if (tls.key_file) ssl.key = readSetting(tls.key_file, 'kafka.tls.key_file');
    if (tls.server_name) ssl.servername = tls.server_name;
    out.ssl = ssl;
  }
  const sasl = config.sasl;
  if (sasl) {
    const secret = password(sasl, env);
    out.sasl =
      sasl.mechanism === 'plain'
        ? { mechanism: 'plain', username: sasl.username, password: secret }
        : { mechanism: sasl.mechanism, username: sasl.username, password: secret };
  }
  return out;
}
