/**
 * The samples of a Prometheus text exposition (format 0.0.4, what the
 * agent's /metrics serves through prom-client), one per line:
 *
 *   name{label="value",...} value [timestamp]
 *
 * `#` lines (HELP, TYPE, comments) and blank lines are skipped; label
 * values undo the format's three escapes (\\, \" and \n); values are
 * floats, `+Inf`, `-Inf` or `NaN` (in any case). Histogram and summary series come out
 * as their plain samples (`_bucket`, `_sum`, `_count`).
 *
 * Written here, small, because npm has no maintained parser:
 * parse-prometheus-text-format, the one in use, has had no release or
 * maintainer answer since 2020 and ships no types.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };
// Any case, as Prometheus reads them (Go's ParseFloat): prom-client writes NaN as "Nan".
const SPECIAL_VALUES: Record<string, number> = { '+inf': Infinity, inf: Infinity, '-inf': -Infinity, nan: NaN };

/** Every sample of `text`; a line that is not one throws, naming its line number. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseSample(line));
    } catch (err) {
      throw new Error(`metrics line ${i + 1}: ${(err as Error).message}: ${line.slice(0, 120)}`);
    }
  }
  return samples;
}

function parseSample(line: string): Sample {
  const name = token(METRIC_NAME, line, 0, 'a metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (true) {
      while (line[at] === ' ' || line[at] === ',') at++;
      if (line[at] === '}') break;
      const label = token(LABEL_NAME, line, at, 'a label name');
      at += label.length;
      if (line[at] !== '=' || line[at + 1] !== '"') throw new Error(`expected ="…" after label ${label}`);
      at += 2;
      let value = '';
      for (; line[at] !== '"'; at++) {
        if (at >= line.length) throw new Error(`label ${label}: no closing quote`);
        if (line[at] === '\\') value += ESCAPES[line.charAt(++at)] ?? `\\${line.charAt(at)}`;
        else value += line[at];
      }
      at++;
      labels[label] = value;
    }
    at++;
  }
  const valueText = line.slice(at).trim().split(/\s+/)[0] ?? '';
  const special = SPECIAL_VALUES[valueText.toLowerCase()];
  const value = special ?? (valueText === '' ? NaN : Number(valueText));
  if (Number.isNaN(value) && special === undefined) throw new Error(`not a sample value: "${valueText}"`);
  return { name, labels, value };
}

function token(pattern: RegExp, line: string, at: number, what: string): string {
  pattern.lastIndex = at;
  const match = pattern.exec(line);
  if (match === null) throw new Error(`expected ${what} at column ${at + 1}`);
  return match[0];
}
