/**
 * Finding a `log_format NAME ...;` directive in an nginx configuration,
 * following `include` the way nginx does: a relative include path (glob
 * allowed) is relative to the directory of the main configuration file,
 * glob matches are read in sorted order, a glob matching nothing is fine,
 * a plain path that does not exist is an error. Synchronous: it runs once at
 * start-up.
 */
import { globSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Escape } from './escape.ts';
import { FormatError } from './format-error.ts';
import { formatFromArguments } from './format-source.ts';
import type { Token } from './nginx-tokens.ts';
import { tokenize } from './nginx-tokens.ts';

export interface ConfLogFormat {
  readonly name: string;
  readonly format: string;
  readonly escape: Escape;
  /** The file and 1-based line of the directive. */
  readonly file: string;
  readonly line: number;
}

const MAX_INCLUDE_DEPTH = 32;

interface Walk {
  readonly prefix: string;
  readonly formats: Map<string, ConfLogFormat>;
  readonly files: string[];
}

function readConf(path: string, from?: { file: string; line: number }): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    if (from === undefined) throw new FormatError(`cannot read nginx config ${path}: ${reason}`, { file: path, cause: error });
    throw new FormatError(`include ${path}: cannot read it: ${reason}`, { ...from, cause: error });
  }
}

function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

function walkFile(walk: Walk, file: string, text: string, depth: number): void {
  walk.files.push(file);
  const tokens = tokenize(text, file);
  let words: Token[] = [];
  let open = 0;
  for (const token of tokens) {
    if (token.type === 'word') {
      words.push(token);
      continue;
    }
    if (token.type === '}') {
      if (words.length > 0) throw new FormatError(`unexpected "}" (the directive "${words[0]!.text}" has no ";")`, { file, line: token.line });
      if (open === 0 && depth === 0) throw new FormatError('unexpected "}"', { file, line: token.line });
      open--;
      continue;
    }
    const head = words[0];
    if (head === undefined) {
      if (token.type === '{') throw new FormatError('unexpected "{"', { file, line: token.line });
      words = [];
      continue; // a stray ";" is harmless
    }
    if (token.type === '{') {
      open++;
    } else if (head.text === 'include' && !head.quoted) {
      const target = words[1];
      if (target === undefined || words.length !== 2) throw new FormatError('include takes exactly one path', { file, line: head.line });
      include(walk, target.text, { file, line: head.line }, depth);
    } else if (head.text === 'log_format' && !head.quoted) {
      const name = words[1];
      if (name === undefined) throw new FormatError('log_format needs a name and a format', { file, line: head.line });
      if (!walk.formats.has(name.text)) {
        const args = formatFromArguments(words.slice(2), { file, line: head.line });
        walk.formats.set(name.text, { name: name.text, ...args, file, line: head.line });
      }
    }
    words = [];
  }
  if (words.length > 0) throw new FormatError(`unexpected end of file: the directive "${words[0]!.text}" has no ";"`, { file, line: words[0]!.line });
}

function include(walk: Walk, pattern: string, from: { file: string; line: number }, depth: number): void {
  if (depth >= MAX_INCLUDE_DEPTH) throw new FormatError(`include ${pattern}: includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`, from);
  const path = isAbsolute(pattern) ? pattern : resolve(walk.prefix, pattern);
  const files = hasGlob(path) ? globSync(path).map((p) => resolve(p)).sort() : [path];
  for (const f of files) walkFile(walk, f, readConf(f, from), depth + 1);
}

/** Every `log_format` of the configuration (first definition of a name wins, as nginx refuses duplicates). */
export function readConfLogFormats(confPath: string): { formats: Map<string, ConfLogFormat>; files: string[] } {
  const file = resolve(confPath);
  const walk: Walk = { prefix: dirname(file), formats: new Map(), files: [] };
  walkFile(walk, file, readConf(file), 0);
  return { formats: walk.formats, files: walk.files };
}

/** The `log_format NAME` of the configuration at `confPath`, or a FormatError saying what is there instead. */
export function findConfLogFormat(confPath: string, name: string): ConfLogFormat {
  const { formats, files } = readConfLogFormats(confPath);
  const found = formats.get(name);
  if (found !== undefined) return found;
  const known = [...formats.keys()];
  throw new FormatError(
    `log_format "${name}" is not defined here` +
      (files.length > 1 ? ` nor in the ${files.length - 1} file(s) it includes` : '') +
      `; defined: ${known.length > 0 ? known.join(', ') : 'none'} (and nginx's predefined combined)`,
    { file: resolve(confPath) },
  );
}
