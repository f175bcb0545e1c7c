/**
 * Compiles an nginx `log_format` into a parser specialised for it.
 *
 * The format is `literal0 $var0 literal1 $var1 ... literalN`. Matching walks
 * the line left to right; each variable's end is found with the cheapest
 * rule its shape and the next literal allow (decided once, here):
 *
 * - fixed:     the value has a fixed width (`$time_local`).
 * - stopChar:  the value cannot hold the literal's first character (a token
 *              followed by a space, an escaped value followed by `"`): the
 *              first occurrence of that character is the end, no choice.
 * - search:    the value may hold the literal (`$remote_user` with a space
 *              followed by ` [`, an upstream list followed by a space): the
 *              first occurrence of the literal whose value checks out is
 *              taken, and later occurrences are tried if the rest of the line
 *              then fails to match (bounded look-ahead, no regex).
 * - lastLit:   the last variable before a non-empty trailing literal ends
 *              where that literal ends the line.
 * - toEnd:     the last variable with nothing after it takes the rest.
 * - run:       a variable directly followed by another (`$a$b`) ends where
 *              its character class ends (digits for numbers...).
 *
 * Values are typed as they are cut (numbers read in place), so a value that
 * does not fit its variable's shape is itself a mismatch: that is what lets
 * `search` pick the right occurrence. The per-line state lives in arrays
 * allocated once per compiled parser; a successful line allocates the
 * record, its strings and arrays, nothing else.
 */
import { decodeJsonEscapes, decodeNginxEscapes, indexOfUnescapedQuote } from './decode-escapes.ts';
import type { Escape } from './escape.ts';
import { excerpt } from './excerpt.ts';
import { FormatError } from './format-error.ts';
import { parseFormatTemplate } from './format-template.ts';
import { jsonFormatMembers } from './json-format.ts';
import { JsonLineParser } from './json-line.ts';
import { OWN_REQUEST_PARTS, REQUEST_PARTS, splitRequestLine } from './request-line.ts';
import { TIME_VARIABLES, TIMESTAMP_KEY, TimestampFormatter } from './timestamp.ts';
import { readDecimal, readInt, readList } from './typed-value.ts';
import type { FieldValue, LineParser, LogRecord } from './types.ts';
import { ParseError } from './types.ts';
import { Kind, describeKind, fixedWidth, isListKind, variableKind } from './variables.ts';

export { TIMESTAMP_KEY } from './timestamp.ts';

export interface CompileOptions {
  /** nginx's `escape=` parameter of the format. Default `default`. */
  escape?: Escape;
}

/** What `compileLogFormat` accepts: a format body, or a body with its escaping (what `resolveFormat` returns). */
export type CompileInput = string | { readonly format: string; readonly escape?: Escape; readonly byKeyName?: boolean };

/** Beyond this many look-ahead retries on one line, the line is reported as not matching. */
const MAX_RETRIES = 256;

const Mode = { fixed: 0, stopChar: 1, search: 2, lastLit: 3, toEnd: 4, run: 5 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

const Failure = { literal: 0, value: 1, trailing: 2 } as const;
type Failure = (typeof Failure)[keyof typeof Failure];

/** One `$variable` of the format, with everything the hot path needs precomputed. */
class FieldSpec {
  readonly name: string;
  readonly kind: Kind;
  /** Index of this variable's value in the record's values. */
  readonly slot: number;
  /** The literal that follows the variable (may be empty). */
  readonly literal: string;
  readonly mode: Mode;
  readonly width: number;
  /** First character of `literal` (stopChar mode). */
  readonly stop: string;
  /** The stop character is `"` in an `escape=json` line: skip `\"`. */
  readonly jsonQuote: boolean;
  /** A token whose end rule does not already exclude spaces. */
  readonly checkNoSpace: boolean;
  /** Default escaping never writes a raw `"` in a value; check where the end rule does not. */
  readonly checkNoQuote: boolean;
  /** Character class for run mode (a variable directly followed by another). */
  readonly inRun: ((c: number) => boolean) | undefined;

  constructor(name: string, kind: Kind, slot: number, literal: string, mode: Mode, escape: Escape) {
    this.name = name;
    this.kind = kind;
    this.slot = slot;
    this.literal = literal;
    this.mode = mode;
    this.width = fixedWidth(kind);
    this.stop = literal.charAt(0);
    this.jsonQuote = escape === 'json' && this.stop === '"';
    const endExcludesSpace = (mode === Mode.stopChar && this.stop === ' ') || mode === Mode.run || mode === Mode.fixed;
    this.checkNoSpace = kind === Kind.token && !endExcludesSpace;
    this.checkNoQuote = escape === 'default' && mode !== Mode.fixed && !(mode === Mode.stopChar && this.stop === '"');
    this.inRun = runClass(kind);
  }
}

/** Whether a value of `kind`, written with `escape`, can contain the character `c`. */
function canHold(kind: Kind, escape: Escape, c: number): boolean {
  // Default escaping writes `"`, control bytes and 0x7F+ as \xHH; JSON
  // escaping writes `"` and control bytes as \-escapes (its quote search
  // skips `\"`).
  if (escape === 'default' && (c === 0x22 || c < 0x20 || c >= 0x7f)) return false;
  if (escape === 'json' && (c === 0x22 || c < 0x20)) return false;
  const digit = c >= 0x30 && c <= 0x39;
  switch (kind) {
    case Kind.int: return digit || c === 0x2d;
    case Kind.float: return digit || c === 0x2d || c === 0x2e;
    case Kind.listInt: return digit || c === 0x2d || c === 0x2c || c === 0x20 || c === 0x3a;
    case Kind.listFloat: return digit || c === 0x2d || c === 0x2c || c === 0x20 || c === 0x3a || c === 0x2e;
    case Kind.token: return c !== 0x20;
    default: return true;
  }
}

/** Character class of a variable followed directly by another variable. */
function runClass(kind: Kind): ((c: number) => boolean) | undefined {
  switch (kind) {
    case Kind.int: return (c) => c >= 0x30 && c <= 0x39;
    case Kind.float: return (c) => (c >= 0x30 && c <= 0x39) || c === 0x2e;
    case Kind.token: return (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
      || c === 0x2e || c === 0x2d || c === 0x5f || c === 0x3a || c === 0x5b || c === 0x5d;
    default: return undefined;
  }
}

function chooseMode(name: string, kind: Kind, literal: string, isLast: boolean, next: string | undefined, escape: Escape): Mode {
  if (fixedWidth(kind) > 0) return Mode.fixed;
  if (literal.length === 0) {
    if (isLast) return Mode.toEnd;
    if (runClass(kind) === undefined) {
      throw new FormatError(
        `$${name} is followed directly by $${next} with nothing between them, and the value of $${name} has no fixed shape: ` +
          'a line cannot be split there. Put a separator between the two variables in the log_format.',
      );
    }
    return Mode.run;
  }
  if (!canHold(kind, escape, literal.charCodeAt(0))) return Mode.stopChar;
  return isLast ? Mode.lastLit : Mode.search;
}

type RecordFactory = (values: FieldValue[]) => LogRecord;

/**
 * A function building the record as one object literal: every record of a
 * format gets the same hidden class at once, which is what makes both the
 * build and the later JSON.stringify fast. Keys are embedded with
 * JSON.stringify, so no format text ever becomes code.
 */
function recordFactory(keys: readonly string[]): RecordFactory {
  const props = keys.map((key, i) => (key === '__proto__' ? `[${JSON.stringify(key)}]` : JSON.stringify(key)) + `: v[${i}]`);
  return new Function('v', `return {${props.join(', ')}};`) as RecordFactory;
}

class CompiledParser implements LineParser {
  readonly fields: readonly string[];
  readonly #prefix: string;
  readonly #specs: readonly FieldSpec[];
  readonly #escape: Escape;
  readonly #values: FieldValue[];
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #choices: Int32Array;
  readonly #build: RecordFactory;
  readonly #timestampSlot: number;
  readonly #timestampSource: number;
  readonly #timestampKind: Kind;
  readonly #requestSlot: number;
  readonly #requestPartsSlot: number;
  readonly #timestamps = new TimestampFormatter();
  // The furthest failure of the current line, for the ParseError.
  #failOffset = -1;
  #failField = -1;
  #failCode: Failure = Failure.literal;
  #failEnd = -1;

  constructor(format: string, escape: Escape) {
    const { literals, variables } = parseFormatTemplate(format);
    this.#prefix = literals[0]!;
    this.#escape = escape;

    // Record layout: @timestamp first (when the format has a time), then
    // the variables in format order, the request parts right after $request.
    const names = new Set(variables);
    const timeVar = TIME_VARIABLES.find((n) => names.has(n));
    const splitRequest = names.has('request') && ![...OWN_REQUEST_PARTS].some((n) => names.has(n));
    const keys: string[] = [];
    const slotOf = new Map<string, number>();
    if (timeVar !== undefined) keys.push(TIMESTAMP_KEY);
    for (const name of variables) {
      if (slotOf.has(name)) continue; // a variable written twice: the later value wins
      slotOf.set(name, keys.length);
      keys.push(name);
      if (name === 'request' && splitRequest) keys.push(...REQUEST_PARTS);
    }
    this.fields = keys;
    this.#timestampSlot = timeVar === undefined ? -1 : 0;
    this.#timestampSource = timeVar === undefined ? -1 : slotOf.get(timeVar)!;
    this.#timestampKind = timeVar === undefined ? Kind.text : variableKind(timeVar);
    this.#requestSlot = splitRequest ? slotOf.get('request')! : -1;
    this.#requestPartsSlot = splitRequest ? this.#requestSlot + 1 : -1;

    this.#specs = variables.map((name, i) => {
      const kind = variableKind(name);
      const literal = literals[i + 1]!;
      const isLast = i === variables.length - 1;
      return new FieldSpec(name, kind, slotOf.get(name)!, literal, chooseMode(name, kind, literal, isLast, variables[i + 1], escape), escape);
    });
    this.#values = new Array<FieldValue>(keys.length).fill(null);
    this.#starts = new Int32Array(variables.length);
    this.#ends = new Int32Array(variables.length);
    this.#choices = new Int32Array(variables.length);
    this.#build = recordFactory(keys);
  }

  parse(line: string): LogRecord | ParseError {
    if (!line.startsWith(this.#prefix)) {
      return new ParseError(`line does not start with the format's ${excerpt(this.#prefix, 0, this.#prefix.length)}`, 0);
    }
    const specs = this.#specs;
    const values = this.#values;
    const starts = this.#starts;
    const ends = this.#ends;
    const choices = this.#choices;
    const n = specs.length;
    const backslash = this.#escape === 'none' ? -1 : line.indexOf('\\');
    this.#failOffset = -1;
    let depth = 0;
    let retries = 0;
    let i = 0;
    let pos = this.#prefix.length;
    let resumeEnd = -1;

    while (true) {
      let failed = false;
      while (i < n) {
        const spec = specs[i]!;
        let end: number;
        if (resumeEnd >= 0) {
          end = resumeEnd;
          resumeEnd = -1;
        } else {
          end = this.#findEnd(spec, line, pos);
          if (spec.mode === Mode.search && end >= 0) choices[depth++] = i;
        }
        starts[i] = pos;
        ends[i] = end;
        if (end < 0 || !line.startsWith(spec.literal, end)) {
          this.#fail(Failure.literal, i, end < 0 ? pos : end, end);
          failed = true;
          break;
        }
        const value = this.#convert(spec, line, pos, end, backslash);
        if (value === undefined) {
          this.#fail(Failure.value, i, pos, end);
          failed = true;
          break;
        }
        values[spec.slot] = value;
        pos = end + spec.literal.length;
        i++;
      }
      if (!failed) {
        if (pos === line.length) break;
        this.#fail(Failure.trailing, n - 1, pos, line.length);
      }
      // Look-ahead: take the next occurrence of the literal after the most
      // recent variable that had a choice, and match again from there.
      let resumed = false;
      while (depth > 0 && retries < MAX_RETRIES) {
        const k = choices[--depth]!;
        retries++;
        const next = line.indexOf(specs[k]!.literal, ends[k]! + 1);
        if (next !== -1) {
          choices[depth++] = k;
          i = k;
          pos = starts[k]!;
          resumeEnd = next;
          resumed = true;
          break;
        }
      }
      if (!resumed) return this.#error(line);
    }

    if (this.#timestampSlot >= 0) {
      const source = values[this.#timestampSource]!;
      values[this.#timestampSlot] =
        typeof source === 'number'
          ? this.#timestamps.fromEpochSeconds(source)
          : typeof source === 'string'
            ? this.#timestamps.fromText(source, this.#timestampKind === Kind.timeIso8601)
            : null;
    }
    if (this.#requestSlot >= 0) splitRequestLine(values[this.#requestSlot]!, values, this.#requestPartsSlot);
    return this.#build(values);
  }

  #findEnd(spec: FieldSpec, line: string, pos: number): number {
    switch (spec.mode) {
      case Mode.stopChar:
        return spec.jsonQuote ? indexOfUnescapedQuote(line, pos) : line.indexOf(spec.stop, pos);
      case Mode.search:
        return line.indexOf(spec.literal, pos);
      case Mode.fixed:
        return pos + spec.width <= line.length ? pos + spec.width : -1;
      case Mode.lastLit: {
        const end = line.length - spec.literal.length;
        return end >= pos ? end : -1;
      }
      case Mode.toEnd:
        return line.length;
      default: {
        const inRun = spec.inRun!;
        let end = pos;
        if (line.charCodeAt(pos) === 0x2d) return pos + 1; // `-`: not set
        while (end < line.length && inRun(line.charCodeAt(end))) end++;
        return end;
      }
    }
  }

  /** The value of `line[start, end)` typed for `spec`, or undefined when it does not fit. */
  #convert(spec: FieldSpec, line: string, start: number, end: number, backslash: number): FieldValue | undefined {
    const kind = spec.kind;
    if (end === start) return null;
    const dash = end - start === 1 && line.charCodeAt(start) === 0x2d;
    switch (kind) {
      case Kind.int:
      case Kind.intLoose: {
        if (dash) return null;
        const v = readInt(line, start, end);
        if (v === v) return v;
        return kind === Kind.intLoose ? this.#text(line, start, end, backslash) : undefined;
      }
      case Kind.float: {
        if (dash) return null;
        const v = readDecimal(line, start, end);
        return v === v ? v : undefined;
      }
      case Kind.timeLocal:
        return line.charCodeAt(start + 2) === 0x2f && line.charCodeAt(start + 20) === 0x20 ? line.slice(start, end) : undefined;
      case Kind.timeIso8601:
        return line.charCodeAt(start + 10) === 0x54 ? line.slice(start, end) : undefined;
      default: {
        // `-` is nginx's "not set" in the default escaping; in json/none
        // escaping "not set" is empty, and `-` is only null for lists
        // (nginx writes `-` itself for a try without a value).
        if (dash && (this.#escape === 'default' || isListKind(kind))) return null;
        if (spec.checkNoSpace) {
          const space = line.indexOf(' ', start);
          if (space !== -1 && space < end) return undefined;
        }
        if (spec.checkNoQuote) {
          const quote = line.indexOf('"', start);
          if (quote !== -1 && quote < end) return undefined;
        }
        const text = this.#text(line, start, end, backslash);
        return isListKind(kind) ? readList(text, kind) : text;
      }
    }
  }

  #text(line: string, start: number, end: number, backslash: number): string {
    const raw = line.slice(start, end);
    if (backslash === -1 || backslash >= end) return raw;
    if (backslash < start && raw.indexOf('\\') === -1) return raw;
    return this.#escape === 'json' ? decodeJsonEscapes(raw) : decodeNginxEscapes(raw);
  }

  #fail(code: Failure, field: number, offset: number, end: number): void {
    if (offset < this.#failOffset) return;
    this.#failOffset = offset;
    this.#failField = field;
    this.#failCode = code;
    this.#failEnd = end;
  }

  #error(line: string): ParseError {
    const spec = this.#specs[this.#failField]!;
    const at = this.#failOffset;
    switch (this.#failCode) {
      case Failure.literal:
        return new ParseError(
          this.#failEnd < 0
            ? `no ${excerpt(spec.literal, 0, spec.literal.length)} after $${spec.name} (from offset ${at})`
            : `expected ${excerpt(spec.literal, 0, spec.literal.length)} after $${spec.name} at offset ${at}, found ${excerpt(line, at, at + spec.literal.length)}`,
          at,
        );
      case Failure.value:
        return new ParseError(`$${spec.name} at offset ${at}: ${excerpt(line, at, this.#failEnd)} is not ${describeKind(spec.kind)}`, at);
      default:
        return new ParseError(`unexpected ${excerpt(line, at, line.length)} at offset ${at}, after the last field ($${spec.name})`, at);
    }
  }
}

/**
 * Compiles a log_format body (the string nginx sees once its quoted parts
 * are joined, e.g. `$remote_addr - $remote_user [$time_local] "$request" ...`)
 * into a parser. Pure; throws FormatError when the format cannot be split
 * (two free-text variables with nothing between them).
 *
 * Escaping is nginx's `escape=` parameter: pass `{ escape: 'json' }`, or
 * pass `resolveFormat()`'s result, which carries it.
 *
 * A body that is a JSON object of `"key":"$variable"` (or `"key":$variable`)
 * members is read key by key instead (json-line.ts): any JSON object per
 * line, keys in any order, missing or added.
 */
export function compileLogFormat(input: CompileInput, options: CompileOptions = {}): LineParser {
  const format = typeof input === 'string' ? input : input.format;
  const escape = options.escape ?? (typeof input === 'string' ? undefined : input.escape) ?? 'default';
  // With escape=none a value may hold a raw `"`: only the format's order can tell where it ends.
  if (escape !== 'none') {
    const members = jsonFormatMembers(format);
    if (members !== undefined) return new JsonLineParser({ members, escape, byKeyName: typeof input !== 'string' && input.byKeyName === true });
  }
  return new CompiledParser(format, escape);
}
