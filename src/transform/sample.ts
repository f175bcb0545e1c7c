import type { FieldValue, LogRecord } from '../parse/types.ts';
import type { Condition } from './expression.ts';

/**
 * Keeps 1 record in `rate`. With a key, by a hash of the key's value, so
 * every record of one client (remote_addr) or one request (request_id) is
 * kept or dropped together, on every agent and after every restart; without
 * one, every rate-th record. `alwaysKeep` records are kept whatever the hash.
 */
export function compileSample(rate: number, key: string | undefined, alwaysKeep: Condition | undefined): (record: LogRecord) => boolean {
  if (key === undefined) {
    let count = 0;
    return (record) => {
      if (++count >= rate) {
        count = 0;
        return true;
      }
      return alwaysKeep !== undefined && alwaysKeep(record);
    };
  }
  return (record) => hashOf(record[key]) % rate === 0 || (alwaysKeep !== undefined && alwaysKeep(record));
}

/**
 * FNV-1a over the value's UTF-16 code units, then murmur3's finaliser so the
 * low bits (which `% rate` reads) depend on every character. Written out,
 * not a library's: a native hash costs a call into C++ per line, 4 times
 * this for a key of an IP's length (~125 against ~30 ns).
 */
export function hashOf(value: FieldValue | undefined): number {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
