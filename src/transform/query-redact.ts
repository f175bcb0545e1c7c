/**
 * Query parameters redacted by name: `?token=abc&page=2` → `?token=REDACTED&page=2`.
 * Names compare case-insensitively and URL-decoded (`API%5FKey` is
 * `api_key`); a parameter starts the text, or follows `?`, `&` or `;`
 * (`&amp;` in an HTML referer); its value ends at `&`, `;`, `#` or white space. Both patterns are linear: a name cannot hold
 * the characters that start one, a value is one character class (or an
 * escape pair), so a crafted line cannot make a scan backtrack.
 */

/** The parameters redacted when `params` is not set. */
export const DEFAULT_PARAMS = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'api_key',
  'apikey',
  'key',
  'signature',
  'sig',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'session',
  'sessionid',
];

/**
 * In a field (decoded text): a value ends at `&`, `;`, `#` or white space.
 * `;` separates parameters in old forms (`a=1;token=x`): ending a value
 * there leaves the rest of a value with a raw `;` (no token has one, and a
 * client encodes it as %3B) rather than a whole token after one.
 */
const IN_FIELD = /(^|[?&;])([^=&#?;\s]+)=([^&;#\s]*)/g;
/**
 * In a raw log line (still escaped as nginx wrote it): a parameter may also
 * follow a quote or white space (`$args` is a field of its own), and a value
 * also ends at a quote, but not at an escaped one (`\"` with escape=json;
 * default escaping writes `\x22`), which must not end it early and let its rest through.
 */
const IN_LINE = /(^|[?&;"\s])([^=&#?;\s"]+)=((?:[^&;#\s"\\]|\\.)*)/g;

function normalName(name: string): string {
  if (name.includes('%') || name.includes('+')) {
    try {
      return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
    } catch {
      // Not valid percent-encoding: compared as written.
    }
  }
  return name.toLowerCase();
}

export class QueryRedactor {
  private readonly fieldReplacer: (match: string, lead: string, name: string, value: string) => string;

  constructor(params: readonly string[], replacement: string) {
    const names = new Set(params.map((p) => p.toLowerCase()));
    this.fieldReplacer = (match, lead, name, value) => (value !== '' && names.has(normalName(name)) ? `${lead}${name}=${replacement}` : match);
  }

  /** A field's text with the named parameters' values replaced; the same string when there was nothing to redact. */
  field(text: string): string {
    return text.includes('=') ? text.replace(IN_FIELD, this.fieldReplacer) : text;
  }

  /** A whole raw line (a dead letter): every parameter anywhere in it. */
  line(text: string): string {
    return text.includes('=') ? text.replace(IN_LINE, this.fieldReplacer) : text;
  }
}
