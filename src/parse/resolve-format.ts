/**
 * The I/O edge of the parser: turns what the operator configured (a preset
 * name, a format string, or an nginx.conf plus a log_format name) into the
 * format body and escaping that `compileLogFormat` takes.
 */
import type { Escape } from './escape.ts';
import { FormatError } from './format-error.ts';
import { formatFromNginxSyntax, looksLikeNginxSyntax } from './format-source.ts';
import { findConfLogFormat } from './nginx-conf.ts';
import { unescapeConfigString } from './nginx-tokens.ts';
import { findPreset, presetNames } from './presets.ts';

export interface FormatSpec {
  /** A preset name (`combined`, `main`, ...) or a log_format string. */
  format?: string;
  /** An nginx.conf to read `log_format <name>` from (with `name`). */
  nginxConf?: string;
  name?: string;
}

export interface ResolvedFormat {
  /** The log_format body, quoted parts joined. */
  readonly format: string;
  readonly escape: Escape;
  /** Where it came from, for logs and errors: `preset combined`, `/etc/nginx/nginx.conf:14`, `--format`. */
  readonly origin: string;
  /** A JSON preset: keys are typed by their names, not by a log_format (see presets.ts). */
  readonly byKeyName?: boolean;
}

/**
 * - `{ format: 'combined' }`: a preset (see presets.ts).
 * - `{ format: '$remote_addr ...' }`: a log_format body, escaping `default`;
 *   its backslash escapes mean what they mean in nginx.conf (`\t` a tab,
 *   `\"` a quote, `\\` a backslash).
 * - `{ format: "escape=json '{...}'" }`, `{ format: "'...' '...'" }` or a whole
 *   `log_format name ...;` directive: nginx's syntax, parts joined.
 * - `{ nginxConf, name }`: the `log_format name` directive of that file or
 *   the files it includes. `combined` needs no directive (nginx predefines it).
 *
 * Throws FormatError naming the file/line/name at fault.
 */
export function resolveFormat(spec: FormatSpec): ResolvedFormat {
  if (spec.nginxConf !== undefined) {
    if (spec.format !== undefined) throw new FormatError('give either a format or an nginx config with a log_format name, not both');
    const name = spec.name ?? 'combined';
    try {
      const found = findConfLogFormat(spec.nginxConf, name);
      return { format: found.format, escape: found.escape, origin: `${found.file}:${found.line}` };
    } catch (error) {
      // nginx predefines `combined`; a config cannot redefine it.
      if (name === 'combined' && error instanceof FormatError && error.message.includes('is not defined')) {
        return presetFormat('combined');
      }
      throw error;
    }
  }
  if (spec.name !== undefined) throw new FormatError(`a log_format name ("${spec.name}") needs an nginx config to read it from`);
  const format = spec.format;
  if (format === undefined || format.trim() === '') {
    throw new FormatError(`no log format given: use a preset (${presetNames().join(', ')}), a log_format string, or an nginx config and a name`);
  }
  if (findPreset(format) !== undefined) return presetFormat(format);
  if (looksLikeNginxSyntax(format)) {
    const parsed = formatFromNginxSyntax(format);
    return { format: parsed.format, escape: parsed.escape, origin: '--format' };
  }
  if (!format.includes('$')) {
    throw new FormatError(`unknown format preset "${format}"; presets: ${presetNames().join(', ')} (or give a log_format string with $variables)`);
  }
  // nginx's escapes, as if the string were written in nginx.conf: `\t` is a tab.
  return { format: unescapeConfigString(format), escape: 'default', origin: '--format' };
}

function presetFormat(name: string): ResolvedFormat {
  const preset = findPreset(name)!;
  const resolved = { format: preset.format, escape: preset.escape, origin: `preset ${name}` };
  return preset.byKeyName === true ? { ...resolved, byKeyName: true } : resolved;
}
