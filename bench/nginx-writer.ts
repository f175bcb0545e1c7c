/**
 * Writes access-log lines the way nginx does, from variable values: the
 * inverse of the parser, used to generate benchmark input and by the
 * parser's property test. Escaping follows ngx_http_log_module:
 *
 * - default: `"`, `\`, bytes below 0x20, 0x7F and up as `\xHH` (of the
 *   UTF-8 bytes); a variable that is not set is `-`.
 * - json: `\"`, `\\`, `\n`/`\r`/`\t`/`\b`/`\f`, other bytes below 0x20 as
 *   `\u00XX`; non-ASCII left raw; not set is empty.
 * - none: values as they are; not set is empty.
 */
import type { Escape } from '../src/parse/escape.ts';
import { parseFormatTemplate } from '../src/parse/format-template.ts';

/** A variable's value; undefined or null: not set. */
export type WrittenValue = string | null | undefined;

const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();

function needsDefaultEscape(b: number): boolean {
  return b < 0x20 || b === 0x22 || b === 0x5c || b >= 0x7f;
}

export function escapeDefault(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    if (needsDefaultEscape(value.charCodeAt(i))) { plain = false; break; }
  }
  if (plain) return value;
  let out = '';
  for (const b of utf8.encode(value)) {
    out += needsDefaultEscape(b) ? `\\x${HEX[b >> 4]}${HEX[b & 15]}` : String.fromCharCode(b);
  }
  return out;
}

export function escapeJson(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20) out += value[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
  }
  return out;
}

/** A writer for one format: `(values) => line`. */
export function nginxWriter(format: string, escape: Escape): (values: Readonly<Record<string, WrittenValue>>) => string {
  const { literals, variables } = parseFormatTemplate(format);
  return (values) => {
    let line = literals[0]!;
    for (let i = 0; i < variables.length; i++) {
      const v = values[variables[i]!];
      if (v === undefined || v === null) line += escape === 'default' ? '-' : '';
      else line += escape === 'default' ? escapeDefault(v) : escape === 'json' ? escapeJson(v) : v;
      line += literals[i + 1]!;
    }
    return line;
  };
}
