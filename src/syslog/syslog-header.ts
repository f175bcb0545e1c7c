/**
 * The syslog header of one message, read in place from its bytes:
 *
 * - RFC 3164 as nginx writes it (src/core/ngx_syslog.c):
 *   `<PRI>Mmm dd HH:MM:SS HOSTNAME TAG: MSG`, or without HOSTNAME
 *   (`nohostname`); relays also send `TAG[PID]:` and an RFC 3339 time
 *   (rsyslog's RSYSLOG_ForwardFormat) in the same layout.
 * - RFC 5424 from relays:
 *   `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`,
 *   the tag being APP-NAME; a UTF-8 BOM before MSG is dropped.
 *
 * The header's time is not used: the record's @timestamp comes from the
 * access log line itself ($time_local, $time_iso8601, $msec).
 */

export interface SyslogHeader {
  /** APP-NAME (5424) or TAG (3164), '' when absent. */
  tag: string;
  /** HOSTNAME from the header, '' when absent (nginx's `nohostname`, or `-`). */
  hostname: string;
  /** Where the message (the access log line) starts and ends in the buffer. */
  msgStart: number;
  msgEnd: number;
}

export class MalformedSyslog {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

const LT = 0x3c;
const GT = 0x3e;
const SP = 0x20;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const LF = 0x0a;
const CR = 0x0d;
const MONTHS = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);

/** Reads the header of the message in `buf[start, end)`. */
export function parseSyslogHeader(buf: Buffer, start: number, end: number): SyslogHeader | MalformedSyslog {
  // A trailing newline (newline framing leaves none; some senders add one to UDP datagrams).
  while (end > start && (buf[end - 1] === LF || buf[end - 1] === CR)) end--;
  if (buf[start] !== LT) return new MalformedSyslog('does not start with <PRI>');
  let p = start + 1;
  let pri = 0;
  while (p < end && p < start + 5 && buf[p]! >= 0x30 && buf[p]! <= 0x39) pri = pri * 10 + buf[p++]! - 0x30;
  if (p === start + 1 || buf[p] !== GT || pri > 191) return new MalformedSyslog('bad <PRI>');
  p++;
  if (buf[p] === 0x31 && buf[p + 1] === SP) return rfc5424(buf, p + 2, end);
  return rfc3164(buf, p, end);
}

function tokenEnd(buf: Buffer, p: number, end: number): number {
  const sp = buf.indexOf(SP, p);
  return sp === -1 || sp > end ? end : sp;
}

function rfc5424(buf: Buffer, p: number, end: number): SyslogHeader | MalformedSyslog {
  const fields: string[] = [];
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
  for (let i = 0; i < 5; i++) {
    const e = tokenEnd(buf, p, end);
    if (e === end) return new MalformedSyslog('RFC 5424 header cut short');
    fields.push(buf.toString('latin1', p, e));
    p = e + 1;
  }
  // STRUCTURED-DATA: `-` or [elements], whose quoted values may hold escaped `]` and `"`.
  if (buf[p] === DASH) p++;
  else if (buf[p] === LBRACKET) {
    while (buf[p] === LBRACKET) {
      let quoted = false;
      p++;
      while (p < end) {
        const c = buf[p];
        if (quoted && c === BACKSLASH) p++;
        else if (c === QUOTE) quoted = !quoted;
        else if (!quoted && c === RBRACKET) break;
        p++;
      }
      if (p >= end) return new MalformedSyslog('RFC 5424 structured data not closed');
      p++;
    }
  } else return new MalformedSyslog('RFC 5424 structured data missing');
  if (p < end) {
    if (buf[p] !== SP) return new MalformedSyslog('no space after RFC 5424 structured data');
    p++;
  }
  if (buf[p] === 0xef && buf[p + 1] === 0xbb && buf[p + 2] === 0xbf) p += 3;
  const nil = (s: string) => (s === '-' ? '' : s);
  return { tag: nil(fields[2]!), hostname: nil(fields[1]!), msgStart: skipSpaces(buf, p, end), msgEnd: end };
}

function rfc3164(buf: Buffer, p: number, end: number): SyslogHeader | MalformedSyslog {
  // `Mmm dd HH:MM:SS ` (day padded with a space), or an RFC 3339 time token.
  if (end - p >= 16 && MONTHS.has(buf.toString('latin1', p, p + 3)) && buf[p + 3] === SP && buf[p + 9] === COLON && buf[p + 12] === COLON && buf[p + 15] === SP) {
    p += 16;
  } else if (buf[p]! >= 0x30 && buf[p]! <= 0x39) {
    const e = tokenEnd(buf, p, end);
    if (e === end) return new MalformedSyslog('RFC 3164 header cut short');
    p = e + 1;
  } else {
    return new MalformedSyslog('no RFC 3164 timestamp');
  }
  // HOSTNAME TAG: or just TAG: (nginx's nohostname)
  const first = tokenEnd(buf, p, end);
  if (first > p && buf[first - 1] === COLON) return withTag(buf, '', p, first, end);
  const hostname = buf.toString('latin1', p, first);
  if (first === end) return { tag: '', hostname, msgStart: end, msgEnd: end };
  const q = first + 1;
  const second = tokenEnd(buf, q, end);
  if (second > q && buf[second - 1] === COLON) return withTag(buf, hostname, q, second, end);
  // No tag (some devices): the message follows the host name.
  return { tag: '', hostname, msgStart: q, msgEnd: end };
}

/** `TAG:` or `TAG[PID]:` in buf[p, colonEnd); the message follows the space after it. */
function withTag(buf: Buffer, hostname: string, p: number, colonEnd: number, end: number): SyslogHeader {
  let tagEnd = colonEnd - 1;
  const bracket = buf.indexOf(LBRACKET, p);
  if (bracket !== -1 && bracket < tagEnd) tagEnd = bracket;
  return { tag: buf.toString('latin1', p, tagEnd), hostname, msgStart: skipSpaces(buf, Math.min(colonEnd + 1, end), end), msgEnd: end };
}

/** Relays put a space of their own before the message (rsyslog's %msg% keeps the one after `TAG:`); an access log line does not start with one. */
function skipSpaces(buf: Buffer, p: number, end: number): number {
  while (p < end && buf[p] === SP) p++;
  return p;
}
