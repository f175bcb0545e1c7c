/**
 * Splits a log_format body into its literals and variables, the way nginx's
 * `ngx_http_log_compile_format` does: `$name` (letters, digits, `_`) or
 * `${name}`; everything else is literal text.
 */
import { FormatError } from './format-error.ts';

/**
 * `literals.length === variables.length + 1`: literal 0, variable 0,
 * literal 1, ... variable n-1, literal n. Literals may be empty.
 */
export interface FormatTemplate {
  readonly literals: readonly string[];
  /** Variable names without `$`, lower case (nginx's variable names are case-insensitive). */
  readonly variables: readonly string[];
}

function isNameChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

export function parseFormatTemplate(format: string): FormatTemplate {
  const literals: string[] = [];
  const variables: string[] = [];
  let literal = '';
  let i = 0;
  while (i < format.length) {
    const dollar = format.indexOf('$', i);
    if (dollar === -1) {
      literal += format.slice(i);
      break;
    }
    literal += format.slice(i, dollar);
    let j = dollar + 1;
    const braced = format.charCodeAt(j) === 0x7b; /* { */
    if (braced) j++;
    const nameStart = j;
    while (j < format.length && isNameChar(format.charCodeAt(j))) j++;
    const name = format.slice(nameStart, j);
    if (braced) {
      if (format.charCodeAt(j) !== 0x7d /* } */) {
        throw new FormatError(`the closing bracket in "\${${name}" is missing (column ${dollar + 1} of the log_format)`);
      }
      j++;
    }
    if (name.length === 0) {
      throw new FormatError(
        `"$" at column ${dollar + 1} of the log_format is not followed by a variable name: ${JSON.stringify(format.slice(dollar, dollar + 20))}`,
      );
    }
    literals.push(literal);
    variables.push(name.toLowerCase());
    literal = '';
    i = j;
  }
  literals.push(literal);
  return { literals, variables };
}
