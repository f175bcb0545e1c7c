/**
 * `transforms.enrich.user_agent`: browser, OS and device type read from
 * the User-Agent by bowser (MIT). Parsing one costs about 10-20 µs, and
 * clients send the same few hundred strings over and over: results are
 * cached by the string.
 */
import Bowser from 'bowser';
import { LRUCache } from 'lru-cache';
import type { FieldValue, LogRecord } from '../parse/types.ts';

/** The fields the stage adds, in this order. */
export const USER_AGENT_FIELDS = ['ua_browser', 'ua_browser_version', 'ua_os', 'ua_os_version', 'ua_device'] as const;

type Parts = readonly [string | null, string | null, string | null, string | null, string | null];
const NONE: Parts = [null, null, null, null, null];

function partsOf(userAgent: string): Parts {
  const { browser, os, platform } = Bowser.parse(userAgent);
  return [browser.name || null, browser.version || null, os.name || null, os.version || null, platform.type || null];
}

export function compileUserAgent(field: string): (record: LogRecord) => void {
  // Bounded in bytes too: a User-Agent can be as long as max_line_bytes.
  const cache = new LRUCache<string, Parts>({ max: 10_000, maxSize: 4 * 2 ** 20, sizeCalculation: (_parts, userAgent) => userAgent.length * 2 + 100 });
  return (record) => {
    const value: FieldValue | undefined = record[field];
    let parts = NONE;
    if (typeof value === 'string' && value !== '') {
      const cached = cache.get(value);
      if (cached === undefined) {
        parts = partsOf(value);
        cache.set(value, parts);
      } else parts = cached;
    }
    record.ua_browser = parts[0];
    record.ua_browser_version = parts[1];
    record.ua_os = parts[2];
    record.ua_os_version = parts[3];
    record.ua_device = parts[4];
  };
}
