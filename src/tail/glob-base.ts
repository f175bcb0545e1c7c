import { isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';

/**
 * The directory a glob cannot escape (picomatch's `scan`: the part before
 * its first wildcard), and how many directories deep below it a match can
 * be (undefined with `**`). The depth counts every separator of the glob
 * part, a brace's too: at worst a level more is watched, never one less.
 */
export function globBase(pattern: string): { base: string; depth: number | undefined } {
  const absolute = isAbsolute(pattern) ? pattern : resolve(pattern);
  const { base, glob, isGlob } = picomatch.scan(absolute);
  if (!isGlob) {
    // A plain path: watch its directory, one level.
    const slash = absolute.lastIndexOf('/');
    return { base: absolute.slice(0, slash) || '/', depth: 0 };
  }
  return {
    base: base || '/',
    depth: glob.split('/').includes('**') || glob.includes('**') ? undefined : glob.split('/').length - 1,
  };
}
