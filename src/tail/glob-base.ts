import { isAbsolute, resolve, sep } from 'node:path';

const GLOB_CHARS = /[*?[{]/;

/** The directory a glob cannot escape: the part before its first wildcard segment. */
export function globBase(pattern: string): { base: string; depth: number | undefined } {
  const absolute = isAbsolute(pattern) ? pattern : resolve(pattern);
  const parts = absolute.split(sep);
  const first = parts.findIndex((part) => GLOB_CHARS.test(part));
  if (first === -1) {
    // A plain path: watch its directory, one level.
    return { base: parts.slice(0, -1).join(sep) || sep, depth: 0 };
  }
  const rest = parts.slice(first);
  return {
    base: parts.slice(0, first).join(sep) || sep,
    depth: rest.includes('**') ? undefined : rest.length - 1,
  };
}
