/**
 * Undoing nginx's value escaping. Both decoders are only called when the
 * value holds a backslash: the common case costs one indexOf, not a copy.
 */

/**
 * Scratch bytes for reassembling a value, grown on demand and reused:
 * decoding allocates only the resulting string. (Buffer's UTF-8 decoding
 * replaces invalid sequences with U+FFFD exactly like TextDecoder, and is
 * faster on short inputs.)
 */
let scratch = Buffer.allocUnsafe(1024);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Writes the UTF-8 bytes of code point `cp` at `at`; returns the next index. */
function putUtf8(bytes: Uint8Array, at: number, cp: number): number {
  if (cp < 0x80) {
    bytes[at] = cp;
    return at + 1;
  }
  if (cp < 0x800) {
    bytes[at] = 0xc0 | (cp >> 6);
    bytes[at + 1] = 0x80 | (cp & 0x3f);
    return at + 2;
  }
  if (cp < 0x10000) {
    bytes[at] = 0xe0 | (cp >> 12);
    bytes[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
    bytes[at + 2] = 0x80 | (cp & 0x3f);
    return at + 3;
  }
  bytes[at] = 0xf0 | (cp >> 18);
  bytes[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
  bytes[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
  bytes[at + 3] = 0x80 | (cp & 0x3f);
  return at + 4;
}

/**
 * nginx's default escaping: every `\xHH` is one byte of the original value.
 * The bytes are reassembled and read as UTF-8, so `\xC3\xBC` is `ü` and an
 * invalid sequence (`\xFF`, Latin-1 `\xE9`) becomes U+FFFD, as a UTF-8
 * reader of the original bytes would see it. A backslash not followed by
 * `x` and two hex digits is kept as it is (nginx never writes one, but a
 * hand-written line may).
 */
export function decodeNginxEscapes(value: string): string {
  // At most 3 bytes per UTF-16 code unit (4 per surrogate pair); escapes shrink.
  if (scratch.length < value.length * 3) scratch = Buffer.allocUnsafe(value.length * 3);
  const bytes = scratch;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c /* \ */ && value.charCodeAt(i + 1) === 0x78 /* x */) {
      const hi = hexValue(value.charCodeAt(i + 2));
      const lo = hi < 0 ? -1 : hexValue(value.charCodeAt(i + 3));
      if (lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 3;
        continue;
      }
    }
    if (c < 0x80) {
      bytes[n++] = c;
      continue;
    }
    // The line was already decoded from UTF-8 by the caller: re-encode.
    const cp = value.codePointAt(i) ?? c;
    if (cp > 0xffff) i++;
    n = putUtf8(bytes, n, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
  return bytes.toString('utf8', 0, n);
}

/**
 * `escape=json`: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`
 * (surrogate pairs join naturally as UTF-16). An unknown or cut escape is
 * kept as written rather than failing the line.
 */
export function decodeJsonEscapes(value: string): string {
  let out = '';
  let from = 0;
  let i = value.indexOf('\\');
  while (i !== -1) {
    out += value.slice(from, i);
    const e = value.charCodeAt(i + 1);
    let width = 2;
    switch (e) {
      case 0x22: out += '"'; break;
      case 0x5c: out += '\\'; break;
      case 0x2f: out += '/'; break;
      case 0x62: out += '\b'; break;
      case 0x66: out += '\f'; break;
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x75: {
        const h0 = hexValue(value.charCodeAt(i + 2));
        const h1 = hexValue(value.charCodeAt(i + 3));
        const h2 = hexValue(value.charCodeAt(i + 4));
        const h3 = hexValue(value.charCodeAt(i + 5));
        if ((h0 | h1 | h2 | h3) < 0) {
          out += '\\';
          width = 1;
        } else {
          out += String.fromCharCode((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
          width = 6;
        }
        break;
      }
      default:
        out += '\\';
        width = 1;
    }
    from = i + width;
    i = value.indexOf('\\', from);
  }
  return out + value.slice(from);
}

/**
 * Where an `escape=json` string that starts before `from` ends: the first
 * `"` at or after `from` not escaped by a backslash (`\\"` ends it, `\"`
 * does not), or -1.
 */
export function indexOfUnescapedQuote(line: string, from: number): number {
  let q = line.indexOf('"', from);
  while (q !== -1) {
    let b = q - 1;
    while (b >= from && line.charCodeAt(b) === 0x5c) b--;
    if (((q - 1 - b) & 1) === 0) return q;
    q = line.indexOf('"', q + 1);
  }
  return -1;
}
