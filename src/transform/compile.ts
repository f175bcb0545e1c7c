/**
 * An input's `transforms`, compiled once at start-up into one step between
 * parse and encode. The order is fixed, whatever the order in the file:
 *
 *   filter → sample → privacy → enrich → fields
 *
 * so filter and sample see the record as parsed (the real client address),
 * nothing after privacy sees what it hides, and templates (topic, key) see
 * the record as shipped. Every name is checked against the fields the
 * record has at that point; a problem is a TransformError naming the setting.
 */
import type { TransformsConfig } from '../config/types.ts';
import type { CounterName } from '../observe/stats.ts';
import { ParseError, type LineParser, type LogRecord } from '../parse/types.ts';
import { compileCondition, type Condition } from './expression.ts';
import { compileFields } from './fields.ts';
import { checkField, type KnownFields } from './known-fields.ts';
import { compilePrivacy, type Privacy } from './privacy.ts';
import { compileSample } from './sample.ts';
import { TransformError } from './transform-error.ts';
import { compileUserAgent, USER_AGENT_FIELDS } from './user-agent.ts';

/** Why a record is not shipped: the counter it bumps. Its line's offset still advances the checkpoint. */
export type DropReason = Extract<CounterName, 'records_filtered' | 'records_sampled_out'>;

export type SourcePlacement = 'body' | 'headers' | 'both';

export interface Transforms {
  /** The record to ship (the same object or a new one), or why there is none. */
  apply(record: LogRecord): LogRecord | DropReason;
  /** A line that did not parse, as it may be shipped (dead letter, on_error: raw): its text and the parser's reason, redacted. */
  failed(text: string, reason: string): [raw: string, reason: string];
  /** The text of a line whose record is too large to send, as it may be shipped. */
  rawLine(text: string): string;
  readonly source: SourcePlacement;
  /** The fields a shipped record has: what templates may name. */
  readonly fields: KnownFields;
}

/** A JSON-quoted excerpt of the line in a parser's reason (src/parse/excerpt.ts). */
const EXCERPT = /"(?:[^"\\]|\\.)*"/g;

/**
 * Undefined when nothing is configured: the encoder's hot path is then exactly what it is without transforms.
 * `setting` is where the transforms are in the file: `inputs[0].transforms`.
 */
export function compileTransforms(config: TransformsConfig | undefined, parser: LineParser, setting: string, env: NodeJS.ProcessEnv = process.env): Transforms | undefined {
  if (config === undefined) return undefined;
  const parsed: KnownFields = { names: parser.fields, open: parser.openKeys === true };

  let drop: Condition | undefined;
  if (config.filter !== undefined && (config.filter.drop_when === undefined) === (config.filter.keep_when === undefined)) {
    throw new TransformError(`${setting}.filter`, 'give drop_when (records to drop) or keep_when (records to keep), one of the two');
  }
  if (config.filter?.drop_when !== undefined) drop = compileCondition(config.filter.drop_when, parsed, `${setting}.filter.drop_when`);
  else if (config.filter?.keep_when !== undefined) {
    const keep = compileCondition(config.filter.keep_when, parsed, `${setting}.filter.keep_when`);
    drop = (record) => !keep(record);
  }

  let sample: ((record: LogRecord) => boolean) | undefined;
  if (config.sample !== undefined) {
    const { rate, key, always_keep } = config.sample;
    if (key !== undefined) checkField(parsed, key, `${setting}.sample.key`);
    const alwaysKeep = always_keep === undefined ? undefined : compileCondition(always_keep, parsed, `${setting}.sample.always_keep`);
    // rate 1 keeps everything: no stage.
    if (rate > 1) sample = compileSample(rate, key, alwaysKeep);
  }

  let privacy: Privacy | undefined;
  let known = parsed;
  if (config.privacy !== undefined) {
    privacy = compilePrivacy(config.privacy, parsed, `${setting}.privacy`, env);
    const dropped = privacy.dropped;
    known = { names: parsed.names.filter((name) => !dropped.includes(name)), open: parsed.open };
  }

  let userAgent: ((record: LogRecord) => void) | undefined;
  if (config.enrich?.user_agent === true) {
    const field = config.enrich.user_agent_field;
    checkField(known, field, `${setting}.enrich.user_agent_field`);
    userAgent = compileUserAgent(field);
    known = { names: [...known.names.filter((name) => !(USER_AGENT_FIELDS as readonly string[]).includes(name)), ...USER_AGENT_FIELDS], open: known.open };
  }

  const fields = config.fields === undefined ? undefined : compileFields(config.fields, known, `${setting}.fields`);
  if (fields !== undefined) known = fields.after;
  const reshape = fields?.apply;
  const source = config.fields?.source ?? 'both';
  // `transforms: {}`, `enrich: { user_agent: false }`, only `fields.source: both`...: nothing changes, so no step at all.
  if (drop === undefined && sample === undefined && privacy === undefined && userAgent === undefined && reshape === undefined && source === 'both') return undefined;

  return {
    source,
    fields: known,
    apply(record) {
      if (drop !== undefined && drop(record)) return 'records_filtered';
      if (sample !== undefined && !sample(record)) return 'records_sampled_out';
      if (privacy !== undefined) privacy.apply(record);
      if (userAgent !== undefined) userAgent(record);
      return reshape === undefined ? record : reshape(record);
    },
    failed(text, reason) {
      if (privacy === undefined) return [text, reason];
      const raw = privacy.rawLine(text);
      if (raw === text) return [text, reason];
      // The reason quotes the line where it failed: read again, the redacted line gives one that quotes only redacted text.
      const again = raw === '' ? undefined : parser.parse(raw);
      return [raw, again instanceof ParseError ? again.reason : reason.replace(EXCERPT, '"…"')];
    },
    rawLine(text) {
      return privacy === undefined ? text : privacy.rawLine(text);
    },
  };
}
