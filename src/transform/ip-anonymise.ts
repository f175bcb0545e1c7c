/**
 * IP addresses made anonymous: truncated to their network prefix
 * (203.0.113.77 → 203.0.113.0 with /24, 2001:db8:1:2::5 → 2001:db8:1:: with
 * /48) or replaced by a keyed hash (HMAC-SHA256, the first 16 hex digits:
 * the same address gives the same hash under one key, and without the key
 * the 2^32 IPv4 addresses cannot be tried).
 *
 * A value may be one address, one with a port (`203.0.113.7:443`,
 * `[2001:db8::1]:443`), a list (`X-Forwarded-For: a, b`, nginx's upstream
 * lists `a, b : c`) or an array (upstream_addr as parsed): every address in
 * it is replaced, the rest kept as written (ports, separators, `unix:`
 * sockets, names: they are not addresses of a person).
 *
 * The usual forms (dotted quads, IPv6 in hex groups) are read here in one
 * pass: net.isIP's regular expressions and ipaddr.js's parser cost more per
 * IPv6 address (0.1 and 3 to 6 µs) than the rest of the line's work. The
 * rare forms (an IPv4 tail, a zone) go to them. Tests check both readings
 * agree on random addresses.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import type { FieldValue } from '../parse/types.ts';
import { KeyedHash } from './keyed-hash.ts';

/** `groups`: the eight groups of an IPv6 address when the caller has read them (readIPv6), so they are not read twice. */
export type AnonymiseAddress = (address: string, family: 4 | 6, groups?: number[]) => string;

/** Runs of characters an address with its port can be made of: one character class, so the scan is linear. */
const CANDIDATE = /[0-9A-Fa-f:.[\]]+/g;

/** Four decimal numbers under 256 joined by dots, no leading zero: what net.isIP calls IPv4. */
function isDottedQuad(text: string): boolean {
  const length = text.length;
  if (length < 7 || length > 15) return false;
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255 || (digits > 1 && text.charCodeAt(i - digits) === 48)) return false;
      if (i < length && ++dots > 3) return false;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
      value = value * 10 + c - 48;
    } else return false;
  }
  return dots === 3;
}

/**
 * An IPv6 address of hex groups (at most one `::`, no IPv4 tail, no zone)
 * into its eight groups; false for anything else.
 */
function readIPv6(text: string, groups: number[]): boolean {
  const length = text.length;
  if (length < 2 || length > 39) return false;
  let count = 0;
  let gapAt = -1;
  let value = 0;
  let digits = 0;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    // Only `::` may start an address.
    if (text.charCodeAt(1) !== 58) return false;
    gapAt = 0;
    i = 2;
    if (length === 2) {
      groups.fill(0);
      return true;
    }
  }
  for (; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : 58;
    if (c === 58) {
      if (digits === 0 || count === 8) return false;
      groups[count++] = value;
      value = 0;
      digits = 0;
      if (i + 1 < length && text.charCodeAt(i + 1) === 58) {
        if (gapAt !== -1) return false;
        gapAt = count;
        i++;
        if (i + 1 === length) break;
      } else if (i + 1 === length) return false;
    } else {
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d === -1 || ++digits > 4) return false;
      value = value * 16 + d;
    }
  }
  if (gapAt === -1) return count === 8;
  if (count > 7) return false;
  const moved = count - gapAt;
  for (let k = 0; k < moved; k++) groups[7 - k] = groups[count - 1 - k]!;
  for (let k = gapAt; k < 8 - moved; k++) groups[k] = 0;
  return true;
}

/** RFC 5952's text of an IPv6 address: lower-case hex, the longest run of two or more zero groups (the first of equals) as `::`. */
function rfc5952(groups: readonly number[]): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      out += '::';
      i += bestLength - 1;
    } else out += (out === '' || out.endsWith(':') ? '' : ':') + groups[i]!.toString(16);
  }
  return out;
}

/** An IPv6 address with an IPv4 tail (::ffff:192.0.2.1) or a zone (fe80::1%eth0): net.isIP's verdict. */
function isRareIPv6(text: string): boolean {
  return text.includes(':') && (text.includes('.') || text.includes('%')) && isIP(text) === 6;
}

/**
 * Where the first `count` groups of an IPv6 address end when they are
 * written as RFC 5952 writes them and none is zero (no `::` among them, no
 * leading zero, lower case): then the address cut to those groups is that
 * text and `::`. -1 otherwise (the general path reads the groups). The
 * address is one readIPv6 or net.isIP accepted.
 */
function canonicalGroupsEnd(address: string, count: number): number {
  let groups = 0;
  let digits = 0;
  let first = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 58 /* : */) {
      // An empty group is `::` (or a leading `:`); a lone 0 is a zero group: both are the general path's.
      if (digits === 0 || (digits === 1 && first === 48)) return -1;
      if (++groups === count) return i;
      digits = 0;
    } else if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) {
      if (digits === 0) first = c;
      else if (first === 48) return -1; // a leading zero
      digits++;
    } else return -1; // upper case, a dot (IPv4 tail), a zone
  }
  return -1;
}

/** What each number of leading octets kept leaves after them. */
const ZERO_OCTETS = ['0.0.0.0', '.0.0.0', '.0.0', '.0', ''];

export function truncator(ipv4Prefix: number, ipv6Prefix: number): AnonymiseAddress {
  const mask4 = ipv4Prefix === 0 ? 0 : (0xffffffff << (32 - ipv4Prefix)) >>> 0;
  const keptOctets = ipv4Prefix % 8 === 0 ? ipv4Prefix / 8 : -1;
  const truncate4 = (address: string): string => {
    if (keptOctets === 4) return address;
    if (keptOctets >= 0) {
      // /24, /16, /8, /0: the address up to that dot, then zeros.
      const cut = keptOctets === 3 ? address.lastIndexOf('.') : keptOctets === 2 ? address.indexOf('.', address.indexOf('.') + 1) : keptOctets === 1 ? address.indexOf('.') : 0;
      return address.slice(0, cut) + ZERO_OCTETS[keptOctets]!;
    }
    let n = 0;
    let octet = 0;
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i);
      if (c === 46) {
        n = (n * 256 + octet) >>> 0;
        octet = 0;
      } else octet = octet * 10 + c - 48;
    }
    n = ((n * 256 + octet) & mask4) >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  };
  const own = new Array<number>(8);
  const keptGroups = ipv6Prefix % 16 === 0 ? ipv6Prefix / 16 : -1;
  return (address, family, read) => {
    if (family === 4) return truncate4(address);
    // nginx writes addresses in RFC 5952's form: the kept groups are then the text up to their last colon.
    if (keptGroups >= 1 && keptGroups <= 6) {
      const cut = canonicalGroupsEnd(address, keptGroups);
      if (cut !== -1) return `${address.slice(0, cut)}::`;
    }
    const groups = read ?? own;
    if (read === undefined && !readIPv6(address, groups)) {
      const parsed = ipaddr.IPv6.parse(address);
      // ::ffff:a.b.c.d is an IPv4 client seen by a dual-stack socket: the IPv4 prefix applies.
      if (parsed.isIPv4MappedAddress()) return `::ffff:${truncate4(parsed.toIPv4Address().toString())}`;
      const bytes = parsed.toByteArray();
      for (let bit = ipv6Prefix; bit < 128; bit++) bytes[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
      return (ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toRFC5952String();
    }
    for (let i = 0; i < 8; i++) {
      const kept = Math.min(16, Math.max(0, ipv6Prefix - i * 16));
      groups[i] = kept === 0 ? 0 : groups[i]! & ((0xffff << (16 - kept)) & 0xffff);
    }
    return rfc5952(groups);
  };
}

/** Hashes are cached: a client's address comes back line after line, and a hash costs several times a cache hit. */
export function hasher(secret: Buffer): AnonymiseAddress {
  const keyed = new KeyedHash(secret);
  const cache = new LRUCache<string, string>({ max: 65_536 });
  return (address) => {
    let hashed = cache.get(address);
    if (hashed === undefined) {
      hashed = keyed.digest(address);
      cache.set(address, hashed);
    }
    return hashed;
  };
}

const scratch = new Array<number>(8);

/** One run of address characters: an address, an IPv4 address with a port, a bracketed IPv6 address with one, or left alone. */
function anonymiseToken(token: string, anonymise: AnonymiseAddress): string {
  if (isDottedQuad(token)) return anonymise(token, 4);
  if (readIPv6(token, scratch)) return anonymise(token, 6, scratch);
  if (isRareIPv6(token)) return anonymise(token, 6);
  if (token.charCodeAt(0) === 91 /* [ */) {
    const close = token.indexOf(']');
    const inner = close === -1 ? '' : token.slice(1, close);
    if (readIPv6(inner, scratch) || isRareIPv6(inner)) return `[${anonymise(inner, 6)}${token.slice(close)}`;
    return token;
  }
  const colon = token.lastIndexOf(':');
  if (colon > 0 && token.indexOf(':') === colon) {
    const host = token.slice(0, colon);
    if (isDottedQuad(host)) return `${anonymise(host, 4)}${token.slice(colon)}`;
  }
  return token;
}

/** Every address in a text or a field value anonymised by one method; the scan's replacer is made once, not per line. */
export class Anonymiser {
  private readonly anonymise: AnonymiseAddress;
  private readonly replacer: (token: string) => string;
  private readonly groups = new Array<number>(8);

  constructor(anonymise: AnonymiseAddress) {
    this.anonymise = anonymise;
    this.replacer = (token) => anonymiseToken(token, anonymise);
  }

  /** Text without any address comes back as it was (the same string). */
  text(text: string): string {
    // The usual value, one address, without a scan.
    if (isDottedQuad(text)) return this.anonymise(text, 4);
    if (readIPv6(text, this.groups)) return this.anonymise(text, 6, this.groups);
    if (isRareIPv6(text)) return this.anonymise(text, 6);
    return text.replace(CANDIDATE, this.replacer);
  }

  /** Strings, and the strings of an array (upstream_addr); other values as they are. */
  value(value: FieldValue | undefined): FieldValue | undefined {
    if (typeof value === 'string') return this.text(value);
    if (!Array.isArray(value)) return value;
    const out: FieldValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = this.value(value[i]) ?? null;
    return out;
  }
}
