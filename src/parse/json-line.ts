/**
 * Reading a JSON access log key by key: one JSON object per line, in any
 * key order, keys missing or added. A key is read as the variable its
 * log_format maps it to (`"st":$status`), else as the variable it is named
 * after (`"status"`), else kept as it is (strings stay strings, numbers stay
 * numbers, nested values as they are).
 *
 * What nginx writes that is not JSON is read as nginx meant it: `\xHH`
 * inside strings with default escaping (bytes, then UTF-8), `-` (default
 * escaping) or nothing at all (`escape=json`) for an unquoted variable that
 * is not set, unquoted upstream lists (`502, 200`). Raw invalid UTF-8 that
 * `escape=json` leaves in a line was already replaced by U+FFFD when the line
 * was decoded, as for every other format.
 *
 * The hot path: nginx writes every line of a format with the same keys in
 * the same order, so each key is first checked against the key the last line
 * had at that place (one startsWith, no key string), and the record is built
 * by a function compiled once per key sequence (one object literal: the same
 * hidden class for every record, as in compile.ts).
 */
import { decodeJsonEscapes, decodeNginxEscapes, indexOfUnescapedQuote } from './decode-escapes.ts';
import { excerpt } from './excerpt.ts';
import { isSpace, type JsonFormatMember } from './json-format.ts';
import { OWN_REQUEST_PARTS, REQUEST_PARTS, splitRequestLine } from './request-line.ts';
import { TIME_VARIABLES, TIMESTAMP_KEY, TimestampFormatter } from './timestamp.ts';
import { readDecimal, readInt, readList } from './typed-value.ts';
import { ParseError, type FieldValue, type LineParser, type LogRecord } from './types.ts';
import { Kind, describeKind, isNginxVariable, variableKind } from './variables.ts';

/** How a key's value is read. */
const Role = {
  /** An nginx variable: typed by its kind. */
  variable: 0,
  /** A constant of the log_format (`"type":"access"`): like any literal of a format, not in the record. */
  constant: 1,
  /** A key no variable maps to: the value as written. */
  other: 2,
} as const;
type Role = (typeof Role)[keyof typeof Role];

/** Distinct keys remembered per parser; keys beyond are read all the same, only not cached. */
const MAX_KEYS = 1024;
/** Key sequences with a compiled record builder; others are built key by key. */
const MAX_SHAPES = 64;
const MAX_SHAPE_KEYS = 256;
/** Nesting allowed in a value no variable maps to (bounds the reader's recursion). */
const MAX_DEPTH = 32;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

class Member {
  /** For shape keys; -1: not cached. */
  readonly id: number;
  /** The key as written in the line (JSON escapes not undone). */
  readonly rawKey: string;
  /** `"rawKey":`, what the fast path looks for. */
  readonly keyColon: string;
  /** The record's key: the variable's name, or the line's key decoded. */
  readonly key: string;
  readonly role: Role;
  readonly kind: Kind;
  /** Mapped by the operator's log_format: a value that does not fit the variable fails the line (as in compile.ts). */
  readonly strict: boolean;

  constructor(id: number, rawKey: string, key: string, role: Role, kind: Kind, strict: boolean) {
    this.id = id;
    this.rawKey = rawKey;
    this.keyColon = `"${rawKey}":`;
    this.key = key;
    this.role = role;
    this.kind = kind;
    this.strict = strict;
  }

  /** What the line's key is called in reasons: `"st" ($status)`. */
  describe(): string {
    const key = JSON.stringify(this.rawKey);
    return this.role === Role.variable && this.key !== this.rawKey ? `${key} ($${this.key})` : key;
  }
}

type Build = (v: readonly FieldValue[], t: FieldValue, p: readonly FieldValue[]) => LogRecord;

/** One key sequence: how its records are built. */
interface Shape {
  readonly members: readonly Member[];
  readonly keys: readonly string[];
  /** Index (in the line) of the value `@timestamp` comes from, or -1. */
  readonly timeAt: number;
  readonly timeKind: Kind;
  /** Index of `request` when it is split into its parts, or -1. */
  readonly requestAt: number;
  readonly build: Build;
}

function skipSpace(line: string, pos: number): number {
  while (isSpace(line.charCodeAt(pos))) pos++;
  return pos;
}

function defineKey(record: Record<string, FieldValue>, key: string, value: FieldValue): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/**
 * The record's layout for a key sequence: `@timestamp` first (when a time
 * variable is there), then the keys in line order, the request parts right
 * after `request` when no key carries them itself: the layout compile.ts
 * gives a format's variables.
 */
function shapeOf(members: readonly Member[], compiled: boolean): Shape {
  let timeAt = -1;
  let timeRank = TIME_VARIABLES.length;
  let requestAt = -1;
  let ownParts = false;
  members.forEach((m, j) => {
    if (m.role !== Role.variable) return;
    const rank = TIME_VARIABLES.indexOf(m.key);
    if (rank >= 0 && rank <= timeRank) {
      timeRank = rank;
      timeAt = j; // a variable written twice: the later value wins
    }
    if (m.key === 'request') requestAt = j;
    if (OWN_REQUEST_PARTS.has(m.key)) ownParts = true;
  });
  if (ownParts) requestAt = -1;
  // [record key, source]: `t` the timestamp, `v[j]` a value, `p[k]` a request part.
  const layout: [string, string][] = [];
  if (timeAt >= 0) layout.push([TIMESTAMP_KEY, 't']);
  members.forEach((m, j) => {
    if (m.role === Role.constant || (timeAt >= 0 && m.key === TIMESTAMP_KEY)) return; // a line's own `@timestamp` gives way to the derived one
    layout.push([m.key, `v[${j}]`]);
    if (j === requestAt) REQUEST_PARTS.forEach((part, k) => layout.push([part, `p[${k}]`]));
  });
  const keys = [...new Set(layout.map(([key]) => key))];
  return { members, keys, timeAt, timeKind: timeAt < 0 ? Kind.text : members[timeAt]!.kind, requestAt, build: compiled ? compileBuild(layout) : interpretBuild(layout) };
}

/** One object literal per key sequence (keys embedded with JSON.stringify: no line text ever becomes code). */
function compileBuild(layout: readonly [string, string][]): Build {
  const props = layout.map(([key, from]) => `${key === '__proto__' ? `[${JSON.stringify(key)}]` : JSON.stringify(key)}: ${from}`);
  return new Function('v', 't', 'p', `return {${props.join(', ')}};`) as Build;
}

function interpretBuild(layout: readonly [string, string][]): Build {
  const steps = layout.map(([key, from]) => ({ key, source: from[0]!, index: from === 't' ? 0 : Number(from.slice(2, -1)) }));
  return (v, t, p) => {
    const record: LogRecord = {};
    for (const { key, source, index } of steps) defineKey(record, key, source === 't' ? t : source === 'v' ? v[index]! : p[index]!);
    return record;
  };
}

export interface JsonLineOptions {
  /** The members of the operator's log_format, or of a preset. */
  readonly members: readonly JsonFormatMember[];
  readonly escape: 'json' | 'default';
  /**
   * The members come from a preset, not from the operator's log_format: they
   * are typed by name like any other key, leniently, and records are open
   * (any key of the line).
   */
  readonly byKeyName: boolean;
}

export class JsonLineParser implements LineParser {
  readonly fields: readonly string[];
  readonly openKeys: boolean;
  readonly #json: boolean;
  readonly #byRaw = new Map<string, Member>();
  readonly #shapes = new Map<string, Shape>();
  #nextId = 0;
  /** The last line's key sequence: the prediction for the next. */
  #shape: Shape;
  readonly #seen: Member[] = [];
  readonly #values: FieldValue[] = [];
  readonly #parts: FieldValue[] = [null, null, null, null];
  readonly #timestamps = new TimestampFormatter();
  #backslash = -1;
  /** Where the last nested value read ended. */
  #pos = 0;
  /** The last key read by #readKey. */
  #key: Member;
  #failReason = '';
  #failAt = -1;

  constructor(options: JsonLineOptions) {
    this.#json = options.escape === 'json';
    this.openKeys = options.byKeyName;
    const members = options.members.map((m) => {
      const member =
        m.variable === undefined
          ? new Member(this.#nextId++, m.rawKey, m.rawKey, Role.constant, Kind.text, false)
          : new Member(this.#nextId++, m.rawKey, m.variable, Role.variable, variableKind(m.variable), !options.byKeyName);
      if (!this.#byRaw.has(m.rawKey)) this.#byRaw.set(m.rawKey, member);
      return this.#byRaw.get(m.rawKey)!;
    });
    this.#shape = this.#shapeFor(members, members.length);
    this.#key = members[0]!;
    this.fields = this.#shape.keys;
  }

  parse(line: string): LogRecord | ParseError {
    let pos = line.charCodeAt(0) === 0x7b ? 0 : skipSpace(line, 0);
    if (line.charCodeAt(pos) !== 0x7b /* { */) {
      return new ParseError(line.length === 0 ? 'empty line, not a JSON object' : `not a JSON object: the line starts with ${excerpt(line, 0, line.length)}`, pos);
    }
    pos++;
    this.#backslash = line.indexOf('\\');
    const predicted = this.#shape.members;
    const seen = this.#seen;
    const values = this.#values;
    let count = 0;
    let same = true;
    let c = line.charCodeAt(pos);
    if (isSpace(c)) c = line.charCodeAt((pos = skipSpace(line, pos)));
    if (c === 0x7d /* } */) pos++;
    else {
      while (true) {
        // The key: the one the last line had here, else read and looked up.
        let m = predicted[count];
        if (m !== undefined && line.startsWith(m.keyColon, pos)) {
          pos += m.keyColon.length;
        } else {
          pos = this.#readKey(line, pos);
          if (pos < 0) return this.#error();
          m = this.#key;
          if (m !== predicted[count]) same = false;
        }
        seen[count] = m;
        c = line.charCodeAt(pos);
        if (isSpace(c)) c = line.charCodeAt((pos = skipSpace(line, pos)));
        // The value.
        let value: FieldValue | undefined;
        if (c === 0x22 /* " */) {
          const start = pos + 1;
          const end = this.#json ? indexOfUnescapedQuote(line, start) : line.indexOf('"', start);
          if (end < 0) return this.#fail(`the value of ${m.describe()} at offset ${pos} is not closed`, pos);
          value = m.role === Role.variable ? this.#typed(m, line, start, end, true) : this.#text(line, start, end);
          if (value === undefined) return this.#misfit(m, line, start, end);
          pos = end + 1;
        } else if (c === 0x7b || c === 0x5b /* { [ */) {
          if (m.strict) return this.#misfit(m, line, pos, pos + 1);
          value = this.#nested(line, pos, 1);
          if (value === undefined) return this.#fail(`${this.#failReason} in the value of ${m.describe()}`, this.#failAt);
          pos = this.#pos;
        } else {
          const end = this.#bareEnd(line, pos);
          let last = end;
          while (last > pos && isSpace(line.charCodeAt(last - 1))) last--;
          value = m.role === Role.variable ? this.#typed(m, line, pos, last, false) : this.#bare(line, pos, last);
          if (value === undefined) return this.#misfit(m, line, pos, last);
          pos = end;
        }
        values[count++] = value;
        // The separator.
        c = line.charCodeAt(pos);
        if (isSpace(c)) c = line.charCodeAt((pos = skipSpace(line, pos)));
        pos++;
        if (c === 0x2c /* , */) {
          if (isSpace(line.charCodeAt(pos))) pos = skipSpace(line, pos);
          continue;
        }
        if (c === 0x7d /* } */) break;
        return this.#fail(`expected "," or "}" after the value of ${m.describe()} at offset ${pos - 1}, found ${excerpt(line, pos - 1, pos + 19)}`, pos - 1);
      }
    }
    if (pos !== line.length && skipSpace(line, pos) !== line.length) {
      return this.#fail(`unexpected ${excerpt(line, pos, line.length)} at offset ${pos}, after the JSON object`, pos);
    }

    const shape = same && count === predicted.length ? this.#shape : (this.#shape = this.#shapeFor(seen, count));
    let timestamp: FieldValue = null;
    if (shape.timeAt >= 0) {
      const source = values[shape.timeAt];
      if (typeof source === 'number') timestamp = this.#timestamps.fromEpochSeconds(source);
      else if (typeof source === 'string' && shape.timeKind !== Kind.float) timestamp = this.#timestamps.fromText(source, shape.timeKind === Kind.timeIso8601);
    }
    if (shape.requestAt >= 0) splitRequestLine(values[shape.requestAt]!, this.#parts, 0);
    return shape.build(values, timestamp, this.#parts);
  }

  /** Reads `"key" :` at `pos` into #key; returns the offset after the colon, or -1 (the reason in #failReason). */
  #readKey(line: string, pos: number): number {
    pos = skipSpace(line, pos);
    if (line.charCodeAt(pos) !== 0x22) {
      this.#failReason = `expected a key (a quoted name) at offset ${pos}, found ${excerpt(line, pos, pos + 20)}`;
      this.#failAt = pos;
      return -1;
    }
    const end = indexOfUnescapedQuote(line, pos + 1);
    if (end < 0) {
      this.#failReason = `the key at offset ${pos} is not closed`;
      this.#failAt = pos;
      return -1;
    }
    const member = this.#member(line.slice(pos + 1, end));
    const colon = skipSpace(line, end + 1);
    if (line.charCodeAt(colon) !== 0x3a /* : */) {
      this.#failReason = `expected ":" after the key ${member.describe()} at offset ${colon}, found ${excerpt(line, colon, colon + 20)}`;
      this.#failAt = colon;
      return -1;
    }
    this.#key = member;
    return colon + 1;
  }

  /** The member of a key the line has (known, or made now). */
  #member(rawKey: string): Member {
    const known = this.#byRaw.get(rawKey);
    if (known !== undefined) return known;
    const key = rawKey.includes('\\') ? decodeJsonEscapes(rawKey) : rawKey;
    const cached = this.#byRaw.size < MAX_KEYS;
    const member = isNginxVariable(key)
      ? new Member(cached ? this.#nextId++ : -1, rawKey, key, Role.variable, variableKind(key), false)
      : new Member(cached ? this.#nextId++ : -1, rawKey, key, Role.other, Kind.text, false);
    if (cached) this.#byRaw.set(rawKey, member);
    return member;
  }

  #shapeFor(members: readonly Member[], count: number): Shape {
    const list = members.slice(0, count);
    const cacheable = count <= MAX_SHAPE_KEYS && list.every((m) => m.id >= 0);
    if (!cacheable) return shapeOf(list, false);
    const id = list.map((m) => m.id).join(',');
    let shape = this.#shapes.get(id);
    if (shape === undefined) {
      if (this.#shapes.size >= MAX_SHAPES) return shapeOf(list, false);
      shape = shapeOf(list, true);
      this.#shapes.set(id, shape);
    }
    return shape;
  }

  /**
   * `line[start, end)` as the variable `m` (quoted or not), nginx's "not set"
   * rules as compile.ts has them; undefined when it does not fit the variable
   * and the log_format says it is that variable.
   */
  #typed(m: Member, line: string, start: number, end: number, quoted: boolean): FieldValue | undefined {
    if (end === start) return null;
    const kind = m.kind;
    const dash = end - start === 1 && line.charCodeAt(start) === 0x2d;
    switch (kind) {
      case Kind.int:
      case Kind.intLoose: {
        if (dash) return null;
        const v = readInt(line, start, end);
        if (v === v) return v;
        return kind === Kind.intLoose ? this.#text(line, start, end) : this.#unfit(m, line, start, end, quoted);
      }
      case Kind.float: {
        if (dash) return null;
        const v = readDecimal(line, start, end);
        return v === v ? v : this.#unfit(m, line, start, end, quoted);
      }
      case Kind.listText:
      case Kind.listInt:
      case Kind.listFloat: {
        if (dash) return null;
        const list = readList(this.#text(line, start, end), kind);
        return list !== undefined ? list : this.#unfit(m, line, start, end, quoted);
      }
      case Kind.timeLocal:
        if (end - start === 26 && line.charCodeAt(start + 2) === 0x2f && line.charCodeAt(start + 20) === 0x20) return line.slice(start, end);
        return dash && !this.#json ? null : this.#unfit(m, line, start, end, quoted);
      case Kind.timeIso8601:
        if (end - start === 25 && line.charCodeAt(start + 10) === 0x54) return line.slice(start, end);
        return dash && !this.#json ? null : this.#unfit(m, line, start, end, quoted);
      default:
        // `-` is nginx's "not set" in the default escaping; with escape=json, "not set" is empty.
        if (dash && !this.#json) return null;
        if (!quoted && end - start === 4 && line.startsWith('null', start)) return null;
        return this.#text(line, start, end);
    }
  }

  /** A value that does not fit its variable: the line fails when the log_format maps the key, else it is kept as written. */
  #unfit(m: Member, line: string, start: number, end: number, quoted: boolean): FieldValue | undefined {
    if (!quoted && end - start === 4 && line.startsWith('null', start)) return null;
    if (m.strict) return undefined;
    return quoted ? this.#text(line, start, end) : this.#bare(line, start, end);
  }

  #misfit(m: Member, line: string, start: number, end: number): ParseError {
    return this.#fail(`${m.describe()} at offset ${start}: ${excerpt(line, start, end)} is not ${describeKind(m.kind)}`, start);
  }

  /** A string's text, nginx's escapes undone. */
  #text(line: string, start: number, end: number): string {
    const raw = line.slice(start, end);
    const backslash = this.#backslash;
    if (backslash === -1 || backslash >= end) return raw;
    if (backslash < start && raw.indexOf('\\') === -1) return raw;
    return this.#json ? decodeJsonEscapes(raw) : decodeNginxEscapes(raw);
  }

  /**
   * Where an unquoted value of the line's object ends: at `}`, or at a `,`
   * followed by the next key, `}` or the end (an unquoted upstream list
   * holds `, `).
   */
  #bareEnd(line: string, pos: number): number {
    const n = line.length;
    for (let i = pos; i < n; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x7d) return i;
      if (c === 0x2c) {
        const next = line.charCodeAt(skipSpace(line, i + 1));
        if (next === 0x22 || next === 0x7d || next !== next /* end of line */) return i;
      }
    }
    return n;
  }

  /** An unquoted value no variable maps to: JSON's literals and numbers, nginx's "not set", else its text. */
  #bare(line: string, start: number, end: number): FieldValue {
    if (end === start) return null; // escape=json: an unquoted variable not set
    const text = line.slice(start, end);
    switch (text) {
      case '-': return null; // default escaping: an unquoted variable not set
      case 'null': return null;
      case 'true': return true;
      case 'false': return false;
    }
    if (JSON_NUMBER.test(text)) return Number(text);
    return this.#text(line, start, end);
  }

  /** A nested object or array at `pos` (a key no variable maps to), read as written; sets #pos after it. */
  #nested(line: string, pos: number, depth: number): FieldValue | undefined {
    if (depth > MAX_DEPTH) return this.#nestedFail(`nesting deeper than ${MAX_DEPTH} levels at offset ${pos}`, pos);
    const isObject = line.charCodeAt(pos) === 0x7b;
    const close = isObject ? 0x7d : 0x5d;
    const object: Record<string, FieldValue> = {};
    const array: FieldValue[] = [];
    pos = skipSpace(line, pos + 1);
    if (line.charCodeAt(pos) === close) {
      this.#pos = pos + 1;
      return isObject ? object : array;
    }
    while (true) {
      let key = '';
      if (isObject) {
        if (line.charCodeAt(pos) !== 0x22) return this.#nestedFail(`expected a key at offset ${pos}, found ${excerpt(line, pos, pos + 20)}`, pos);
        const end = indexOfUnescapedQuote(line, pos + 1);
        if (end < 0) return this.#nestedFail(`the key at offset ${pos} is not closed`, pos);
        key = this.#backslash >= 0 ? decodeJsonEscapes(line.slice(pos + 1, end)) : line.slice(pos + 1, end);
        pos = skipSpace(line, end + 1);
        if (line.charCodeAt(pos) !== 0x3a) return this.#nestedFail(`expected ":" at offset ${pos}, found ${excerpt(line, pos, pos + 20)}`, pos);
        pos = skipSpace(line, pos + 1);
      }
      let value: FieldValue | undefined;
      const c = line.charCodeAt(pos);
      if (c === 0x22) {
        const end = this.#json ? indexOfUnescapedQuote(line, pos + 1) : line.indexOf('"', pos + 1);
        if (end < 0) return this.#nestedFail(`the string at offset ${pos} is not closed`, pos);
        value = this.#text(line, pos + 1, end);
        pos = end + 1;
      } else if (c === 0x7b || c === 0x5b) {
        value = this.#nested(line, pos, depth + 1);
        if (value === undefined) return undefined;
        pos = this.#pos;
      } else {
        let end = pos;
        while (end < line.length) {
          const d = line.charCodeAt(end);
          if (d === 0x2c || d === 0x7d || d === 0x5d) break;
          end++;
        }
        let last = end;
        while (last > pos && isSpace(line.charCodeAt(last - 1))) last--;
        value = this.#bare(line, pos, last);
        pos = end;
      }
      if (isObject) defineKey(object, key, value);
      else array.push(value);
      pos = skipSpace(line, pos);
      const d = line.charCodeAt(pos);
      if (d === 0x2c) {
        pos = skipSpace(line, pos + 1);
        continue;
      }
      if (d === close) {
        this.#pos = pos + 1;
        return isObject ? object : array;
      }
      return this.#nestedFail(`expected "," or "${isObject ? '}' : ']'}" at offset ${pos}, found ${excerpt(line, pos, pos + 20)}`, pos);
    }
  }

  #nestedFail(reason: string, at: number): undefined {
    this.#failReason = reason;
    this.#failAt = at;
    return undefined;
  }

  #fail(reason: string, at: number): ParseError {
    return new ParseError(reason, at);
  }

  #error(): ParseError {
    return new ParseError(this.#failReason, this.#failAt);
  }
}
