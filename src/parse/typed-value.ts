/**
 * Typing a variable's text: integers, decimals, upstream lists. Numbers are
 * read straight from the line (no substring); `undefined` means "this text
 * is not a value of that kind", which the matcher treats as a mismatch (and
 * may then try another split of the line).
 */
import type { FieldValue } from './types.ts';
import { Kind } from './variables.ts';

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** `line[start, end)` as a non-negative decimal integer, or NaN. */
export function readInt(line: string, start: number, end: number): number {
  if (end <= start) return NaN;
  if (end - start > 15) return /^[0-9]+$/.test(line.slice(start, end)) ? Number(line.slice(start, end)) : NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = line.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * `line[start, end)` as a decimal such as `0.004` or `1795305328.878`, or NaN.
 * Digits are accumulated as one integer and divided once by a power of ten:
 * both are exact below 2^53, and IEEE division rounds correctly, so the
 * result is the same double `Number()` would give, without the substring.
 */
export function readDecimal(line: string, start: number, end: number): number {
  if (end <= start) return NaN;
  let n = 0;
  let digits = 0;
  let scale = -1;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (scale >= 0 || i === start || i === end - 1) return NaN;
      scale = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
    digits++;
    if (scale >= 0) scale++;
  }
  if (digits > 15) return Number(line.slice(start, end));
  return scale > 0 ? n / POW10[scale]! : n;
}

function isDash(text: string, start: number, end: number): boolean {
  return end - start === 1 && text.charCodeAt(start) === 0x2d;
}

/**
 * An upstream list: items joined by `, ` (next try in the same upstream
 * group) or ` : ` (internal redirect to another group). The record holds one
 * flat array, in the order nginx wrote the items, so index i of
 * `upstream_addr`, `upstream_status`, `upstream_response_time`... describe
 * the same try; the group boundaries are not kept. An item `-` (no value for
 * that try, e.g. no connect time for a failed try) is null.
 *
 * Returns undefined when the text is not such a list (an item empty, holding
 * a space or a comma, or not a number in a numeric list).
 */
export function readList(text: string, kind: Kind): FieldValue[] | undefined {
  const items: FieldValue[] = [];
  let start = 0;
  const len = text.length;
  while (true) {
    // An item ends at the first space or comma; what follows must be a separator or the end.
    let end = start;
    while (end < len) {
      const c = text.charCodeAt(end);
      if (c === 0x20 || c === 0x2c) break;
      end++;
    }
    if (end === start) return undefined;
    let item: FieldValue;
    if (isDash(text, start, end)) item = null;
    else if (kind === Kind.listInt) item = readInt(text, start, end);
    else if (kind === Kind.listFloat) item = readDecimal(text, start, end);
    else item = text.slice(start, end);
    if (typeof item === 'number' && item !== item) return undefined; // NaN
    items.push(item);
    if (end === len) return items;
    if (text.charCodeAt(end) === 0x2c && text.charCodeAt(end + 1) === 0x20) start = end + 2;
    else if (text.charCodeAt(end + 1) === 0x3a && text.charCodeAt(end + 2) === 0x20 && text.charCodeAt(end) === 0x20) start = end + 3;
    else return undefined;
  }
}

/**
 * Types an already-decoded value by kind, with the null rules of nginx's
 * default escaping (`-` and empty are null). Used to type nginx's
 * `escape=json` truth in the tests and for values that needed decoding.
 * Returns undefined when the text is not a value of that kind.
 */
export function typeDecoded(kind: Kind, text: string, dashIsNull: boolean): FieldValue | undefined {
  if (text.length === 0) return null;
  const dash = isDash(text, 0, text.length);
  switch (kind) {
    case Kind.int: {
      if (dash) return null;
      const n = readInt(text, 0, text.length);
      return n === n ? n : undefined;
    }
    case Kind.float: {
      if (dash) return null;
      const n = readDecimal(text, 0, text.length);
      return n === n ? n : undefined;
    }
    case Kind.intLoose: {
      if (dash) return null;
      const n = readInt(text, 0, text.length);
      return n === n ? n : text;
    }
    case Kind.listText:
    case Kind.listInt:
    case Kind.listFloat:
      return dash ? null : readList(text, kind);
    default:
      return dash && dashIsNull ? null : text;
  }
}
