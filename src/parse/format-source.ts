/**
 * Reading a log format given as text (the `--format` flag, the `format:` of
 * an input): a preset name, a `log_format` body as is, or the arguments as
 * written in nginx.conf, quoted parts and all.
 */
import type { Escape } from './escape.ts';
import { isEscape } from './escape.ts';
import { FormatError } from './format-error.ts';
import type { Token } from './nginx-tokens.ts';
import { tokenize } from './nginx-tokens.ts';

export interface FormatArguments {
  readonly format: string;
  readonly escape: Escape;
}

/**
 * The arguments of a `log_format` directive after its name:
 * `[escape=default|json|none] string ...`, strings concatenated as nginx
 * does. `where` locates the directive for errors.
 */
export function formatFromArguments(args: readonly Token[], where: { file?: string; line?: number } = {}): FormatArguments {
  let escape: Escape = 'default';
  let first = 0;
  const head = args[0];
  if (head !== undefined && head.text.startsWith('escape=')) {
    const value = head.text.slice('escape='.length);
    if (!isEscape(value)) {
      throw new FormatError(`unknown log format escaping "${value}" (nginx knows default, json, none)`, { ...where, line: head.line });
    }
    escape = value;
    first = 1;
  }
  if (first >= args.length) throw new FormatError('the log_format has no format string', where);
  return { format: args.slice(first).map((t) => t.text).join(''), escape };
}

/**
 * Whether `text` is written in nginx's syntax rather than being a bare
 * body: it starts with a single quote, with `escape=`, or with the
 * `log_format` directive itself. A body may well start with `"` (e.g.
 * `"$request" $status`), so a double quote alone does not decide it.
 */
export function looksLikeNginxSyntax(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith("'") || t.startsWith('escape=') || /^log_format\s/.test(t);
}

/**
 * A format written as in nginx.conf: `'$remote_addr - ...' '"$request" ...'`,
 * `escape=json '{...}'`, or a whole `log_format NAME ...;` directive.
 */
export function formatFromNginxSyntax(text: string): FormatArguments & { name?: string } {
  const tokens = tokenize(text, '--format');
  const words = tokens.filter((t) => t.type === 'word');
  if (words.length !== tokens.length - (tokens.at(-1)?.type === ';' ? 1 : 0)) {
    throw new FormatError('a format written in nginx syntax may hold one log_format directive and nothing else', { file: '--format' });
  }
  if (words[0]?.text === 'log_format' && !words[0].quoted) {
    const name = words[1];
    if (name === undefined) throw new FormatError('log_format needs a name and a format', { file: '--format' });
    return { ...formatFromArguments(words.slice(2), { file: '--format' }), name: name.text };
  }
  return formatFromArguments(words, { file: '--format' });
}
