import { findPreset, FormatError, presetNames } from '../parse/index.ts';
import { closestName } from './did-you-mean.ts';

/**
 * A log format that does not compile, said about the setting that gave it.
 * The parser labels a format given as text `--format` (its flag), which is
 * wrong when it came from a configuration file (`inputs[0].format`). A word
 * that is no preset but close to one gets a guess.
 */
export function formatProblem(err: unknown, format: string | undefined, setting: string): string {
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof FormatError && setting !== '--format') {
    const prefix = err.file !== '--format' ? '' : err.line === undefined ? '--format: ' : `--format:${err.line}: `;
    // Line 1 of a one-line format says nothing; a later line of a multi-line one does.
    const line = err.file === '--format' && err.line !== undefined && err.line > 1 ? ` (line ${err.line} of it)` : '';
    // A problem in an nginx.conf is named by its file and line already.
    if (err.file === undefined || err.file === '--format') message = `${setting}${line}: ${message.slice(prefix.length)}`;
  }
  const word = format?.trim();
  if (word && /^[\w.-]+$/.test(word) && findPreset(word) === undefined) {
    const guess = closestName(word, presetNames());
    if (guess) message = `${message}; did you mean "${guess}"?`;
  }
  return message;
}
