import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { describeProblem, pointerParts, settingName } from './describe-problem.ts';
import { interpolateTree } from './interpolate.ts';
import { applyOutputView } from '../output/delivery-view.ts';
import { configSchema } from './schema.ts';
import type { Config } from './types.ts';
import { applyUnits, UNIT_MEANING } from './units.ts';
import { validate as generated } from './validate-config.generated.ts';
import { yamlLineFinder } from './yaml-lines.ts';

/** A configuration the agent refuses to start with; the message lists every problem. */
export class ConfigError extends Error {
  /** The file, the setting or the input at fault. */
  readonly source: string;
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

/** Settings given on the command line; each wins over the file. */
export interface ConfigOverrides {
  paths?: string[];
  /** With paths: the input's exclude. */
  exclude?: string[];
  format?: string;
  brokers?: string[];
  topic?: string;
  state_dir?: string;
  log_level?: string;
  metrics_listen?: string;
}

/** schema.ts compiled by Ajv at build time (scripts/write-schema.ts, `npm run schema`): fills defaults, lists every problem. */
const validate = generated as unknown as ValidateFunction;

/**
 * Where metrics.listen defaults from the environment when the configuration
 * sets none: the container image sets 0.0.0.0:9598, since inside a container
 * loopback is out of reach of the engine's port mapping and of a scraper.
 */
export const METRICS_LISTEN_ENV = 'LOGSHIP_METRICS_LISTEN';

/** Where the file says a setting (by path); undefined for a configuration without a file. */
export type SettingLine = (path: readonly string[]) => number | undefined;

/** Which settings the command line set: their lines in the file would point at a value that is not the one used. */
function fromFlags(path: readonly string[], overrides: ConfigOverrides): boolean {
  const [top, , field] = path;
  if (top === 'inputs') return Boolean(overrides.paths?.length) || (overrides.format !== undefined && (field === 'format' || field === 'nginx_conf' || field === 'format_name'));
  if (top === 'kafka') return (path[1] === 'brokers' && Boolean(overrides.brokers?.length)) || (path[1] === 'topic' && Boolean(overrides.topic));
  if (top === 'metrics') return path[1] === 'listen' && Boolean(overrides.metrics_listen);
  return (top === 'state_dir' && Boolean(overrides.state_dir)) || (top === 'log_level' && Boolean(overrides.log_level));
}

/**
 * Validates a raw configuration object, fills defaults, and applies overrides. Pure but for `env`.
 * `lineOf` (a file's) puts `<source>:<line>: ` before each problem it can place.
 */
export function buildConfig(raw: unknown, overrides: ConfigOverrides = {}, source = 'command line', env: NodeJS.ProcessEnv = process.env, lineOf?: SettingLine): Config {
  const doc: Record<string, unknown> = raw && typeof raw === 'object' ? structuredClone(raw as Record<string, unknown>) : {};
  const listen = overrides.metrics_listen || env[METRICS_LISTEN_ENV];
  const metrics = doc.metrics ?? {};
  // The flag wins over the file; the environment only fills in what the file leaves unset.
  if (listen && typeof metrics === 'object' && !Array.isArray(metrics) && (overrides.metrics_listen || (metrics as Record<string, unknown>).listen === undefined)) {
    doc.metrics = { ...metrics, listen };
  }
  if (overrides.paths?.length) {
    const input: Record<string, unknown> = { paths: overrides.paths };
    if (overrides.exclude?.length) input.exclude = overrides.exclude;
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

  const { written, tooLarge } = applyUnits(doc, configSchema);
  // Ajv coerces values in place while it tries anyOf branches: messages quote the values as they were.
  const asGiven = structuredClone(doc);
  if (!validate(doc) || tooLarge.size > 0) {
    // Nothing but flags: a missing setting is named by its flag.
    const flagsOnly = source === 'command line' && raw !== null && typeof raw === 'object' && Object.keys(raw).length === 0;
    const context = { root: asGiven, written, flagsOnly };
    // oneOf and anyOf failures repeat the branch errors; report the summary line once per path.
    const errors = (validate.errors ?? []).filter((e) => !/\/(oneOf|anyOf)\//.test(e.schemaPath));
    const located = errors.map((error) => {
      const path = pointerParts(error.instancePath);
      if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
      return { path, problem: describeProblem(error, context) };
    });
    for (const [pointer, unit] of tooLarge) located.push({ path: pointerParts(pointer), problem: `${settingName(pointer)}: must be ${UNIT_MEANING[unit]}; too large (got ${JSON.stringify(written.get(pointer))})` });
    const problems = located
      .filter(({ problem }) => problem !== '')
      .map(({ path, problem }) => ({ problem, line: fromFlags(path, overrides) ? undefined : lineOf?.(path) }))
      // In the order of the file, as an operator reads it.
      .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
      .map(({ problem, line }) => (line === undefined ? problem : `${source}:${line}: ${problem}`));
    throw new ConfigError(source, [...new Set(problems)]);
  }
  const config = doc as unknown as Config;
  config.inputs.forEach((input, index) => (input.name ??= `input-${index}`));
  for (const input of config.inputs) input.paths ??= []; // a syslog input has none
  config.host ??= process.env.NODE_NAME || hostname();
  config.spool.dir ??= join(config.state_dir, 'spool');
  applyOutputView(config);
  return config;
}

/** Reads a YAML file, interpolates `${ENV}`, validates. Errors name the file, the line and the setting. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, env = process.env): Config {
  if (!file) return buildConfig({}, overrides, 'command line', env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `${file}:${at.line}:${at.col}: YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = interpolateTree(doc.toJS(), env);
  } catch (err) {
    throw new ConfigError(file, [(err as Error).message]);
  }
  return buildConfig(raw, overrides, file, env, yamlLineFinder(doc, lines));
}
