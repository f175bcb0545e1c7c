/**
 * Recognising a `log_format` whose body is a JSON object of one variable
 * per member (`{"ts":"$time_iso8601","ip":"$remote_addr","st":$status}`):
 * such a log is read key by key (json-line.ts), so lines in another key
 * order, with keys missing or added, still parse. A body that is anything
 * else (nested objects, several variables or text around a variable in one
 * value) is left to the positional parser, as before.
 */
import { parseFormatTemplate } from './format-template.ts';

/** One member of the format's object. */
export interface JsonFormatMember {
  /** The key as nginx writes it: the format's text between the quotes (JSON escapes not undone). */
  readonly rawKey: string;
  /** The variable of the value (without `$`, lower case), or undefined for a constant value. */
  readonly variable: string | undefined;
}

/** JSON's whitespace (also json-line.ts's). */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The one variable `text` consists of (`$name`, `${name}`), null if it has none, undefined if it has more or text around it. */
function soleVariable(text: string): string | null | undefined {
  if (!text.includes('$')) return null;
  try {
    const { literals, variables } = parseFormatTemplate(text);
    return variables.length === 1 && literals[0] === '' && literals[1] === '' ? variables[0] : undefined;
  } catch {
    return undefined; // a stray `$`: the positional parser says what is wrong
  }
}

/** The end of a JSON string whose opening quote is at `open` (backslash escapes skipped), or -1. */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/**
 * The members of a flat JSON-object format, in format order, or undefined
 * when the format is not one. Throws nothing: the positional parser reports
 * what is wrong with a format it cannot use either.
 */
export function jsonFormatMembers(format: string): JsonFormatMember[] | undefined {
  const n = format.length;
  let i = 0;
  const skip = (): void => {
    while (i < n && isSpace(format.charCodeAt(i))) i++;
  };
  skip();
  if (format.charCodeAt(i) !== 0x7b /* { */) return undefined;
  i++;
  const members: JsonFormatMember[] = [];
  while (true) {
    skip();
    if (format.charCodeAt(i) !== 0x22) return undefined;
    const keyEnd = stringEnd(format, i);
    if (keyEnd < 0) return undefined;
    const rawKey = format.slice(i + 1, keyEnd);
    if (rawKey.includes('$')) return undefined; // a key nginx fills in
    i = keyEnd + 1;
    skip();
    if (format.charCodeAt(i) !== 0x3a /* : */) return undefined;
    i++;
    skip();
    let value: string;
    if (format.charCodeAt(i) === 0x22) {
      const end = stringEnd(format, i);
      if (end < 0) return undefined;
      value = format.slice(i + 1, end);
      i = end + 1;
    } else {
      const start = i;
      if (format.startsWith('${', i)) i = format.indexOf('}', i) + 1 || n; // `${name}` holds a brace
      while (i < n && !isSpace(format.charCodeAt(i)) && format[i] !== ',' && format[i] !== '}') i++;
      value = format.slice(start, i);
      if (value === '' || value.startsWith('{') || value.startsWith('[')) return undefined; // nested: positional
    }
    const variable = soleVariable(value);
    if (variable === undefined) return undefined;
    members.push({ rawKey, variable: variable ?? undefined });
    skip();
    const c = format.charCodeAt(i);
    i++;
    if (c === 0x2c /* , */) continue;
    if (c !== 0x7d /* } */) return undefined;
    skip();
    return i === n && members.some((m) => m.variable !== undefined) ? members : undefined;
  }
}
