/**
 * `@timestamp` (ISO 8601, UTC, milliseconds) from `$msec`, `$time_iso8601`
 * or `$time_local`. Consecutive log lines share their second, so each
 * converter keeps the last second it formatted: the common case is one
 * string comparison and one concatenation, no Date.
 */

/** The key of the timestamp derived from `$msec`, `$time_iso8601` or `$time_local`. */
export const TIMESTAMP_KEY = '@timestamp';

/** The variables `@timestamp` is taken from, the preferred first (`$msec` has milliseconds). */
export const TIME_VARIABLES: readonly string[] = ['msec', 'time_iso8601', 'time_local'];

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** `000Z` ... `999Z`, so the per-line work for a cached second is one concatenation. */
const MILLIS_Z: readonly string[] = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0') + 'Z');

function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function isoOfSecond(epochSeconds: number): string | undefined {
  const date = new Date(epochSeconds * 1000);
  const t = date.getTime();
  if (t !== t) return undefined;
  return date.toISOString().slice(0, 20); // "2026-11-21T23:55:28."
}

/** Offset `+0000` / `-0530` / `+05:30` at `at` in minutes east of UTC, or NaN. */
function offsetMinutes(s: string, at: number, colon: boolean): number {
  const sign = s.charCodeAt(at);
  if (sign !== 0x2b && sign !== 0x2d) return NaN;
  if (colon && s.charCodeAt(at + 3) !== 0x3a) return NaN;
  const minutes = digits(s, at + 1, 2) * 60 + digits(s, at + (colon ? 4 : 3), 2);
  return sign === 0x2d ? -minutes : minutes;
}

/**
 * Epoch seconds of nginx's `$time_local`, `21/Nov/2026:23:55:28 +0000`
 * (26 characters, checked), or NaN when it is not one.
 */
export function secondsOfTimeLocal(s: string): number {
  if (s.length !== 26 || s.charCodeAt(2) !== 0x2f || s.charCodeAt(6) !== 0x2f || s.charCodeAt(11) !== 0x3a
    || s.charCodeAt(14) !== 0x3a || s.charCodeAt(17) !== 0x3a || s.charCodeAt(20) !== 0x20) return NaN;
  const month = MONTHS[s.slice(3, 6)];
  if (month === undefined) return NaN;
  const utc = Date.UTC(digits(s, 7, 4), month, digits(s, 0, 2), digits(s, 12, 2), digits(s, 15, 2), digits(s, 18, 2));
  return utc / 1000 - offsetMinutes(s, 21, false) * 60;
}

/** Epoch seconds of nginx's `$time_iso8601`, `2026-11-21T23:55:28+00:00`, or NaN. */
export function secondsOfTimeIso8601(s: string): number {
  if (s.length !== 25 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54
    || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return NaN;
  const utc = Date.UTC(digits(s, 0, 4), digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2));
  return utc / 1000 - offsetMinutes(s, 19, true) * 60;
}

/** Formats `@timestamp` values; one instance per compiled parser (it caches the last second). */
export class TimestampFormatter {
  #lastSecond = NaN;
  #lastPrefix = '';
  #lastText = '';
  #lastIso: string | null = null;

  /** From `$msec` (seconds with a millisecond fraction). */
  fromEpochSeconds(seconds: number): string | null {
    const ms = Math.round(seconds * 1000);
    const second = Math.floor(ms / 1000);
    if (second !== this.#lastSecond) {
      const prefix = isoOfSecond(second);
      if (prefix === undefined) return null;
      this.#lastSecond = second;
      this.#lastPrefix = prefix;
    }
    return this.#lastPrefix + MILLIS_Z[ms - second * 1000]!;
  }

  /** From `$time_local` or `$time_iso8601` text (whole seconds, so `.000Z`). */
  fromText(text: string, iso8601: boolean): string | null {
    if (text === this.#lastText) return this.#lastIso;
    const seconds = iso8601 ? secondsOfTimeIso8601(text) : secondsOfTimeLocal(text);
    const prefix = seconds === seconds ? isoOfSecond(seconds) : undefined;
    this.#lastText = text;
    this.#lastIso = prefix === undefined ? null : prefix + '000Z';
    return this.#lastIso;
  }
}
