/**
 * One Ajv error as a line an operator can act on: the setting as written in
 * YAML (`inputs[0].start_at`), what is allowed in words, the value given,
 * and a guess where a name or value is close to a known one.
 */
import bytes from 'bytes-iec';
import type { ErrorObject } from 'ajv';
import { closestName } from './did-you-mean.ts';
import { PATTERN_MEANING } from './patterns.ts';
import { configSchema } from './schema.ts';
import { UNIT_MEANING, unitOf } from './units.ts';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: readonly { minimum?: number; maximum?: number; pattern?: string }[];
}

/** `/inputs/0/start_at` → `['inputs', '0', 'start_at']`. */
export function pointerParts(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `/inputs/0/start_at` → `inputs[0].start_at`, the way an operator reads it in YAML. */
export function settingName(instancePath: string): string {
  if (instancePath === '') return '(top level)';
  return pointerParts(instancePath).reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** The schema node at an Ajv schemaPath (`#/properties/batch/properties/max_bytes/anyOf`), up to `drop` trailing keywords. */
function schemaAt(schemaPath: string, drop: number): SchemaNode | undefined {
  const parts = schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean);
  return parts.slice(0, parts.length - drop).reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), configSchema) as SchemaNode | undefined;
}

/** Settings that the command line gives when there is no file, by what the schema says is missing. */
const FLAGS: Readonly<Record<string, string>> = {
  inputs: '--path (the log files) and --format (a preset or log_format string)',
  kafka: '--brokers (host:port of Kafka bootstrap brokers) and --topic',
  'kafka.brokers': '--brokers (host:port of Kafka bootstrap brokers)',
  'kafka.topic': '--topic (the Kafka topic for records)',
};

function quote(value: unknown): string {
  return JSON.stringify(value);
}

function unitProblem(error: ErrorObject, written: string | undefined, value: unknown): string {
  const node = schemaAt(error.schemaPath, 1);
  const unit = unitOf(node);
  const got = ` (got ${quote(written ?? value)})`;
  const meaning = `must be ${unit ? UNIT_MEANING[unit] : 'a number'}`;
  // Still text after units.ts: not a size or duration at all.
  if (typeof value === 'string') return `${meaning}${got}`;
  const bounds = node?.anyOf?.[0] ?? {};
  const show = (n: number) => (unit === 'size' ? (n >= 1024 ? `${n} (${bytes.format(n, { mode: 'binary', unitSeparator: ' ' })})` : `${n}`) : `${n} ms`);
  const limits = [bounds.minimum !== undefined ? `at least ${show(bounds.minimum)}` : '', bounds.maximum !== undefined ? `at most ${show(bounds.maximum)}` : ''].filter(Boolean);
  return `${meaning}; ${limits.join(', ')}${got}`;
}

export interface DescribeContext {
  /** The whole configuration as validated. */
  root: unknown;
  /** Values written with units, by instancePath, as written. */
  written: ReadonlyMap<string, string>;
  /** No configuration file: settings come from flags, and a missing one is named by its flag. */
  flagsOnly: boolean;
}

/** The problem as one line, `<setting>: <what is wrong>`; '' for errors another one already says. */
export function describeProblem(error: ErrorObject, context: DescribeContext): string {
  const where = settingName(error.instancePath);
  const value = pointerParts(error.instancePath).reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), context.root);
  const got = value === undefined ? '' : ` (got ${quote(value)})`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const unknown = String(error.params.additionalProperty);
      const known = Object.keys(schemaAt(error.schemaPath, 1)?.properties ?? {});
      const guess = closestName(unknown, known);
      return `${where}: unknown setting ${quote(unknown)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`;
    }
    case 'enum': {
      const allowed = error.params.allowedValues as unknown[];
      const guess = typeof value === 'string' ? closestName(value, allowed.map(String)) : undefined;
      const choice = guess === undefined ? undefined : allowed.find((a) => String(a) === guess);
      return `${where}: must be one of ${allowed.map(quote).join(', ')}${value === undefined ? '' : ` (got ${quote(value)}${choice === undefined ? '' : `; did you mean ${quote(choice)}?`})`}`;
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      const setting = error.instancePath === '' ? missing : `${where}.${missing}`;
      if (context.flagsOnly && FLAGS[setting]) return `give ${FLAGS[setting]}, or --config FILE`;
      return `${where}: missing required setting ${quote(missing)}`;
    }
    case 'oneOf':
      if (where.endsWith('sasl')) return `${where}: give the password as password_env (an environment variable) or password_file, one of them (never in the file itself)`;
      if (context.flagsOnly) return `${where}: give --format (a preset or log_format string)`;
      return `${where}: give either "format" (a preset or log_format string) or both "nginx_conf" and "format_name"`;
    case 'anyOf':
      return `${where}: ${unitProblem(error, context.written.get(error.instancePath), value)}`;
    case 'pattern': {
      const meaning = PATTERN_MEANING[String(error.params.pattern)];
      return meaning ? `${where}: ${meaning}${got}` : `${where}: ${error.message ?? error.keyword}${got}`;
    }
    case 'const':
      return `${where}: must be ${quote(error.params.allowedValue)}${got}${where === 'kafka.acks' ? ' when kafka.idempotent is true' : ''}`;
    case 'not':
      if (where.startsWith('output.')) return `${where}: give the password as password_env or password_file, not both`;
      return `${where}: ${error.message ?? error.keyword}${got}`;
    case 'if':
      return '';
    default:
      return `${where}: ${error.message ?? error.keyword}${got}`;
  }
}
