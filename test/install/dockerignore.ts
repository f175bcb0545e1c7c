/**
 * .dockerignore as Docker reads it: patterns matched against paths relative
 * to the context, a pattern that matches a directory covering what is in it,
 * `!` re-including, the last matching pattern deciding.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Rule {
  exclude: boolean;
  pattern: string;
  regex: RegExp;
}

/** Go's filepath.Match with Docker's `**`: `*` and `?` stay within one path segment. */
function patternRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      out += pattern.slice(i, end + 1);
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** `included(rel)`: whether the context path `rel` (a/b/c, no leading slash) reaches the build. */
export function contextFilter(context: string): { included(rel: string): boolean; mayIncludeBelow(rel: string): boolean } {
  const file = join(context, '.dockerignore');
  const rules: Rule[] = (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [])
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclude = !line.startsWith('!');
      const pattern = (exclude ? line : line.slice(1)).replace(/^\/+|\/+$/g, '');
      return { exclude, pattern, regex: patternRegex(pattern) };
    });
  const matches = (rule: Rule, rel: string) => {
    const parts = rel.split('/');
    return parts.some((_, i) => rule.regex.test(parts.slice(0, i + 1).join('/')));
  };
  const included = (rel: string) => {
    let keep = true;
    for (const rule of rules) if (matches(rule, rel)) keep = !rule.exclude;
    return keep;
  };
  return {
    included,
    // An excluded directory may still hold a path that an exception names.
    mayIncludeBelow: (rel) => included(rel) || rules.some((r) => !r.exclude && r.pattern.startsWith(`${rel}/`)),
  };
}
