/**
 * Sizes (`64MiB`, `512KB`) and durations (`30s`, `5m`) in the configuration,
 * next to plain numbers (bytes, milliseconds). The schema says which settings
 * take them (a string pattern beside the number, so editors and the
 * generated validator accept them); the loader turns them into numbers before
 * validation, so the loaded Config holds bytes and milliseconds and the
 * bounds (minimum, maximum) apply to what they mean.
 */
import bytes from 'bytes-iec';
import ms from 'ms';
import { DURATION_PATTERN, SIZE_PATTERN } from './patterns.ts';

export type Unit = 'size' | 'duration';

export const UNIT_MEANING: Readonly<Record<Unit, string>> = {
  size: 'a size: bytes, or a number with a unit (B, KB, MB, GB, TB; KiB, MiB, GiB, TiB), e.g. 64MiB',
  duration: 'a duration: milliseconds, or a number with a unit (ms, s, m, h, d), e.g. 30s',
};

const patterns: Record<Unit, RegExp> = { size: new RegExp(SIZE_PATTERN), duration: new RegExp(DURATION_PATTERN) };

/**
 * `text` in bytes or milliseconds, whole (sizes rounded down as bytes-iec
 * does, durations to the nearest millisecond); undefined unless it is a size
 * or duration as the schema spells it, or when too large to count exactly.
 */
export function parseUnit(unit: Unit, text: string): number | undefined {
  if (!patterns[unit].test(text)) return undefined;
  // 'metric': KB is 1000 bytes and KiB 1024, as the units say.
  const value = unit === 'size' ? bytes.parse(text, { mode: 'metric' }) : Math.round(ms(text as ms.StringValue));
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** A size for people to read: `1.5 MiB` (powers of 1024, as the agent's logs and commands print them). */
export function formatSize(n: number): string {
  return bytes.format(n, { mode: 'binary', decimalPlaces: 1, unitSeparator: ' ' }) ?? `${n} B`;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: readonly SchemaNode[];
  pattern?: string;
}

/** The unit a schema node takes: a number, or a string of SIZE_PATTERN / DURATION_PATTERN. */
export function unitOf(node: SchemaNode | undefined): Unit | undefined {
  const pattern = node?.anyOf?.find((branch) => branch.pattern !== undefined)?.pattern;
  return pattern === SIZE_PATTERN ? 'size' : pattern === DURATION_PATTERN ? 'duration' : undefined;
}

export interface WrittenUnits {
  /** What was written, by JSON pointer (Ajv's instancePath), for error messages. */
  written: Map<string, string>;
  /** Where a size or duration is spelled right but too large to count exactly (the schema's pattern accepts it). */
  tooLarge: Map<string, Unit>;
}

/**
 * Replaces sizes and durations written with units in `doc` by numbers, where
 * `schema` says a setting takes them. A string that is not a size or
 * duration is left for validation to report.
 */
export function applyUnits(doc: unknown, schemaNode: object, path = '', out: WrittenUnits = { written: new Map(), tooLarge: new Map() }): WrittenUnits {
  const schema = schemaNode as SchemaNode;
  if (Array.isArray(doc)) {
    if (schema.items) doc.forEach((item, i) => applyUnits(item, schema.items!, `${path}/${i}`, out));
  } else if (doc && typeof doc === 'object' && schema.properties) {
    const object = doc as Record<string, unknown>;
    for (const [key, child] of Object.entries(schema.properties)) {
      const value = object[key];
      const where = `${path}/${key}`;
      const unit = unitOf(child);
      if (unit && typeof value === 'string') {
        out.written.set(where, value);
        const text = value.trim();
        const parsed = parseUnit(unit, text);
        if (parsed !== undefined) object[key] = parsed;
        else if (patterns[unit].test(text)) out.tooLarge.set(where, unit);
      } else if (value !== undefined) {
        applyUnits(value, child, where, out);
      }
    }
  }
  return out;
}
