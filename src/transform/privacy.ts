/**
 * `transforms.privacy`: IP addresses anonymised, query parameters redacted,
 * headers dropped or hashed, in the record and in the raw text of a line
 * that did not parse (a dead letter).
 */
import { readFileSync } from 'node:fs';
import type { PrivacyConfig } from '../config/types.ts';
import type { FieldValue, LogRecord } from '../parse/types.ts';
import { Anonymiser, hasher, truncator } from './ip-anonymise.ts';
import { KeyedHash } from './keyed-hash.ts';
import { checkField, type KnownFields } from './known-fields.ts';
import { DEFAULT_PARAMS, QueryRedactor } from './query-redact.ts';
import { TransformError } from './transform-error.ts';

/** Where addresses usually are, when `ip.fields` is not set (those the format has). */
const DEFAULT_IP_FIELDS = ['remote_addr', 'http_x_forwarded_for', 'realip_remote_addr', 'http_x_real_ip'];
/** Where URLs and query strings usually are, when `redact_query.fields` is not set. */
const DEFAULT_QUERY_FIELDS = ['request', 'request_uri', 'request_query', 'args', 'query_string', 'http_referer'];

/** A record as the privacy stage writes it: a dropped field is set to undefined (see `dropField`). */
type Writable = Record<string, FieldValue | undefined>;

export interface Privacy {
  apply(record: LogRecord): void;
  /** A line that did not parse, as it may be shipped: redacted, or '' (dead_letter_raw: omit). */
  rawLine(text: string): string;
  /** Fields the stage removes from the record. */
  readonly dropped: readonly string[];
}

/** The key of the keyed hashes, read once at start-up; the setting named when it is missing. */
function readSecret(config: PrivacyConfig, setting: string, env: NodeJS.ProcessEnv): Buffer {
  if (config.secret_env !== undefined && config.secret_file !== undefined) throw new TransformError(setting, 'give secret_env or secret_file, not both');
  if (config.secret_env !== undefined) {
    const value = env[config.secret_env];
    if (!value) throw new TransformError(`${setting}.secret_env`, `environment variable ${config.secret_env} is not set or empty`);
    return Buffer.from(value, 'utf8');
  }
  if (config.secret_file !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.secret_file, 'utf8');
    } catch (err) {
      throw new TransformError(`${setting}.secret_file`, `cannot read ${config.secret_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new TransformError(`${setting}.secret_file`, `${config.secret_file} is empty`);
    return Buffer.from(secret, 'utf8');
  }
  throw new TransformError(setting, 'a keyed hash (ip.mode: hash or headers.hash) needs secret_env or secret_file');
}

/** The fields a list names, each checked; or the defaults the format has (at least one). */
function fieldsOf(given: readonly string[] | undefined, defaults: readonly string[], known: KnownFields, setting: string): string[] {
  if (given !== undefined) {
    given.forEach((name, i) => checkField(known, name, `${setting}[${i}]`));
    return [...given];
  }
  const present = defaults.filter((name) => known.names.includes(name));
  if (present.length === 0) throw new TransformError(setting, `none of ${defaults.join(', ')} is a field of this format: name the fields to apply it to`);
  return present;
}

export function compilePrivacy(config: PrivacyConfig, known: KnownFields, setting: string, env: NodeJS.ProcessEnv): Privacy {
  const needsSecret = config.ip?.mode === 'hash' || config.headers?.hash !== undefined;
  const secret = needsSecret ? readSecret(config, setting, env) : undefined;

  let ip: { fields: string[]; anonymiser: Anonymiser } | undefined;
  if (config.ip) {
    const anonymise = config.ip.mode === 'hash' ? hasher(secret!) : truncator(config.ip.ipv4_prefix, config.ip.ipv6_prefix);
    ip = { fields: fieldsOf(config.ip.fields, DEFAULT_IP_FIELDS, known, `${setting}.ip.fields`), anonymiser: new Anonymiser(anonymise) };
  }
  let query: { fields: string[]; redactor: QueryRedactor } | undefined;
  if (config.redact_query) {
    query = {
      fields: fieldsOf(config.redact_query.fields, DEFAULT_QUERY_FIELDS, known, `${setting}.redact_query.fields`),
      redactor: new QueryRedactor(config.redact_query.params ?? DEFAULT_PARAMS, config.redact_query.replacement),
    };
  }
  const drop = config.headers?.drop ?? [];
  const hash = config.headers?.hash ?? [];
  drop.forEach((name, i) => checkField(known, name, `${setting}.headers.drop[${i}]`));
  hash.forEach((name, i) => checkField(known, name, `${setting}.headers.hash[${i}]`));
  const both = drop.find((name) => hash.includes(name));
  if (both !== undefined) throw new TransformError(`${setting}.headers`, `"${both}" is both dropped and hashed`);

  const keyed = hash.length > 0 ? new KeyedHash(secret!) : undefined;
  const omitRaw = config.dead_letter_raw === 'omit';
  return {
    dropped: drop,
    apply(record) {
      const fields = record as Writable;
      // Indexed loops, each skipped when empty: this runs on every line.
      if (ip !== undefined) {
        for (let i = 0; i < ip.fields.length; i++) {
          const name = ip.fields[i]!;
          const value = fields[name];
          if (value !== null && value !== undefined) fields[name] = ip.anonymiser.value(value);
        }
      }
      if (query !== undefined) {
        for (let i = 0; i < query.fields.length; i++) {
          const name = query.fields[i]!;
          const value = fields[name];
          if (typeof value === 'string') fields[name] = query.redactor.field(value);
        }
      }
      // Not `delete`: JSON.stringify leaves an undefined field out, and the record keeps its shape (a delete makes V8 turn it into a slow dictionary).
      for (let i = 0; i < drop.length; i++) if (fields[drop[i]!] !== undefined) fields[drop[i]!] = undefined;
      for (let i = 0; i < hash.length; i++) {
        const name = hash[i]!;
        const value = fields[name];
        if (value !== null && value !== undefined) fields[name] = keyed!.digest(typeof value === 'string' ? value : JSON.stringify(value));
      }
    },
    rawLine(text) {
      if (omitRaw) return '';
      let out = query === undefined ? text : query.redactor.line(text);
      if (ip !== undefined) out = ip.anonymiser.text(out);
      return out;
    },
  };
}
