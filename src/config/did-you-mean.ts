import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate `word` was most likely meant to be: the nearest by edit
 * distance, if it is near enough to be a typo (one edit in a short word, up
 * to three in a long one), else undefined.
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, candidates);
  const allowed = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return distance(word, best) <= allowed ? best : undefined;
}
