import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { interpolateTree } from './interpolate.ts';
import type { Config } from './types.ts';
import { validate as generated } from './validate-config.generated.ts';

/** A configuration the agent refuses to start with; the message lists every problem. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Settings given on the command line; each wins over the file. */
export interface ConfigOverrides {
  paths?: string[];
  format?: string;
  brokers?: string[];
  topic?: string;
  state_dir?: string;
  log_level?: string;
}

/** schema.ts compiled by Ajv at build time (scripts/write-schema.ts, `npm run schema`): fills defaults, lists every problem. */
const validate = generated as unknown as ValidateFunction;

/** `/inputs/0/start_at` → `inputs[0].start_at`, the way an operator reads it in YAML. */
function configPath(instancePath: string): string {
  if (instancePath === '') return '(top level)';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function describe(error: ErrorObject, root: unknown): string {
  const where = configPath(error.instancePath);
  const value = error.instancePath
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unknown setting "${String(error.params.additionalProperty)}"`;
    case 'enum':
      return `${where}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'required':
      return `${where}: missing required setting "${String(error.params.missingProperty)}"`;
    case 'oneOf':
      return where.endsWith('sasl')
        ? `${where}: give the password as password_env (an environment variable) or password_file, one of them (never in the file itself)`
        : `${where}: give either "format" (a preset or log_format string) or both "nginx_conf" and "format_name"`;
    case 'const':
      return `${where}: must be ${JSON.stringify(error.params.allowedValue)}${got}${where === 'kafka.acks' ? ' when kafka.idempotent is true' : ''}`;
    case 'if':
      return '';
    default:
      return `${where}: ${error.message ?? error.keyword}${got}`;
  }
}

/**
 * Where metrics.listen defaults from the environment when the configuration
 * sets none: the container image sets 0.0.0.0:9598, since inside a container
 * loopback is out of reach of the engine's port mapping and of a scraper.
 */
export const METRICS_LISTEN_ENV = 'LOGSHIP_METRICS_LISTEN';

/** Validates a raw configuration object, fills defaults, and applies overrides. Pure but for `env`. */
export function buildConfig(raw: unknown, overrides: ConfigOverrides = {}, source = 'command line', env: NodeJS.ProcessEnv = process.env): Config {
  const doc: Record<string, unknown> = raw && typeof raw === 'object' ? structuredClone(raw as Record<string, unknown>) : {};
  const listen = env[METRICS_LISTEN_ENV];
  const metrics = doc.metrics ?? {};
  if (listen && typeof metrics === 'object' && !Array.isArray(metrics) && (metrics as Record<string, unknown>).listen === undefined) {
    doc.metrics = { ...metrics, listen };
  }
  if (overrides.paths?.length) {
    const input: Record<string, unknown> = { paths: overrides.paths };
    if (overrides.format) input.format = overrides.format;
    doc.inputs = [input];
  } else if (overrides.format && Array.isArray(doc.inputs)) {
    for (const input of doc.inputs as Record<string, unknown>[]) {
      delete input.nginx_conf;
      delete input.format_name;
      input.format = overrides.format;
    }
  }
  if (overrides.brokers?.length || overrides.topic) {
    const kafka = (doc.kafka ??= {}) as Record<string, unknown>;
    if (overrides.brokers?.length) kafka.brokers = overrides.brokers;
    if (overrides.topic) kafka.topic = overrides.topic;
  }
  if (overrides.state_dir) doc.state_dir = overrides.state_dir;
  if (overrides.log_level) doc.log_level = overrides.log_level;

  if (!validate(doc)) {
    // oneOf failures repeat the branch errors; report the summary line once per path.
    const problems = [...new Set((validate.errors ?? []).filter((e) => !e.schemaPath.includes('/oneOf/')).map((e) => describe(e, doc)))].filter(Boolean);
    throw new ConfigError(source, problems);
  }
  const config = doc as unknown as Config;
  config.inputs.forEach((input, index) => (input.name ??= `input-${index}`));
  config.host ??= process.env.NODE_NAME || hostname();
  config.spool.dir ??= join(config.state_dir, 'spool');
  return config;
}

/** Reads a YAML file, interpolates `${ENV}`, validates. Errors name the file and line or setting. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, env = process.env): Config {
  if (!file) return buildConfig({}, overrides, 'command line', env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  let raw: unknown;
  try {
    raw = interpolateTree(doc.toJS(), env);
  } catch (err) {
    throw new ConfigError(file, [(err as Error).message]);
  }
  return buildConfig(raw, overrides, file, env);
}
