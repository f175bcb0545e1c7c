/**
 * The lexical rules of nginx's configuration files (ngx_conf_read_token):
 * words separated by whitespace; `;`, `{` and `}` end them; `#` starts a
 * comment; a word may be quoted with `"` or `'`; `\` escapes the next
 * character, and in the word's value `\"`, `\'`, `\\` are that character,
 * `\t`, `\r`, `\n` the control character, any other `\c` stays as written.
 * `${name}` inside a word is a variable, not a block.
 */
import { FormatError } from './format-error.ts';

export type TokenType = 'word' | ';' | '{' | '}';

export interface Token {
  readonly type: TokenType;
  /** The word's value, quotes removed and escapes applied. */
  readonly text: string;
  readonly quoted: boolean;
  /** 1-based line where the token starts. */
  readonly line: number;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * A string's value the way nginx reads it from its configuration: `\"`,
 * `\'`, `\\` are that character, `\t`, `\r`, `\n` the control character,
 * any other backslash stays as written. Also what a bare format string given
 * to logship (`format:`, `--format`) means.
 */
export function unescapeConfigString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && i + 1 < raw.length) {
      const e = raw[i + 1]!;
      if (e === '"' || e === "'" || e === '\\') { out += e; i++; continue; }
      if (e === 't') { out += '\t'; i++; continue; }
      if (e === 'r') { out += '\r'; i++; continue; }
      if (e === 'n') { out += '\n'; i++; continue; }
    }
    out += c;
  }
  return out;
}

/** Tokens of `text`; `file` names it in errors. Throws FormatError with the line on a lexical error. */
export function tokenize(text: string, file?: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (isSpace(c)) { i++; continue; }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';' || c === '{' || c === '}') {
      tokens.push({ type: c, text: c, quoted: false, line });
      i++;
      continue;
    }
    const startLine = line;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c) {
        if (text[j] === '\\') j++;
        if (text[j] === '\n') line++;
        j++;
      }
      if (j >= n) throw new FormatError(`unexpected end of file: the ${c} quoted string opened here is not closed`, { file, line: startLine });
      const after = text[j + 1];
      if (after !== undefined && !isSpace(after) && after !== ';' && after !== '{' && after !== '}') {
        throw new FormatError(`unexpected "${after}" right after a quoted string (nginx needs a space, ";" or a brace there)`, { file, line });
      }
      tokens.push({ type: 'word', text: unescapeConfigString(text.slice(i + 1, j)), quoted: true, line: startLine });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = text[j]!;
      if (d === '\\') { j += 2; continue; }
      if (d === '{' && text[j - 1] === '$') { // ${name} is a variable, not a block
        const close = text.indexOf('}', j);
        j = close === -1 ? n : close + 1;
        continue;
      }
      if (isSpace(d) || d === ';' || d === '{' || d === '}') break;
      j++;
    }
    tokens.push({ type: 'word', text: unescapeConfigString(text.slice(i, Math.min(j, n))), quoted: false, line: startLine });
    i = j;
  }
  return tokens;
}
