/**
 * Property: any values, written the way nginx escapes them, parse back to
 * themselves (as typed values), for the presets and the fixtures' formats.
 * Values are drawn by each variable's shape: free text is any Unicode text
 * (quotes, backslashes, control characters, spaces, emoji), tokens have no
 * space, numbers and times are what nginx prints, upstream lists have
 * random tries and groups.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { nginxWriter } from '../../bench/nginx-writer.ts';
import type { WrittenValue } from '../../bench/nginx-writer.ts';
import type { Escape } from '../../src/parse/escape.ts';
import { parseFormatTemplate } from '../../src/parse/format-template.ts';
import { compileLogFormat, ParseError, PRESETS, resolveFormat } from '../../src/parse/index.ts';
import type { FieldValue } from '../../src/parse/index.ts';
import { typeDecoded } from '../../src/parse/typed-value.ts';
import { isListKind, Kind, variableKind } from '../../src/parse/variables.ts';

const conf = new URL('../fixtures/nginx/log_formats.conf', import.meta.url).pathname;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
const decimal = fc.nat({ max: 99_999_999 }).map((n) => (n / 1000).toFixed(3));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 5 });
/** No space, comma, not starting with ":": an upstream address or group name. */
const listItem = fc.stringMatching(/^[A-Za-z0-9_.[\]/-][A-Za-z0-9_.:[\]/-]{0,20}$/);
/**
 * Characters drawn for free text: nginx's escaping targets and the formats'
 * own delimiters much more often than chance would, plus any code point.
 */
const char = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('"', '\\', ' ', '-', '[', ']', ',', ':', '=', '{', '}', '\t', '\n', '\x01', '\x7f', 'é', '中', '😀', '\uFFFD') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
/**
 * escape=none writes values raw: a value holding the format's own quoting
 * is genuinely ambiguous there, so its text avoids `"`, `\` and controls.
 */
const rawSafeChar = char.filter((c) => c !== '"' && c !== '\\' && c.charCodeAt(0) >= 0x20);
const text = (escape: Escape, minLength: number, maxLength: number) =>
  fc.string({ unit: escape === 'none' ? rawSafeChar : char, minLength, maxLength });

function list(item: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.constantFrom(', ', ' : '), fc.oneof(item, fc.constant('-'))), { minLength: 1, maxLength: 4 })
    .map((items) => items.map(([sep, v], i) => (i === 0 ? v : sep + v)).join(''))
    .filter((s) => s !== '-');
}

function valueOf(name: string, escape: Escape): fc.Arbitrary<WrittenValue> {
  switch (variableKind(name)) {
    case Kind.int: return maybe(fc.nat().map(String));
    case Kind.float: return name === 'msec' ? date.map((d) => (d.getTime() / 1000).toFixed(3)) : maybe(decimal);
    case Kind.timeLocal:
      return date.map((d) => `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`);
    case Kind.timeIso8601: return date.map((d) => d.toISOString().slice(0, 19) + '+00:00');
    case Kind.listText: return maybe(list(listItem));
    case Kind.listInt: return maybe(list(fc.nat({ max: 999_999 }).map(String)));
    case Kind.listFloat: return maybe(list(decimal));
    case Kind.token: return maybe(text(escape, 1, 24).filter((s) => !s.includes(' ')));
    default: return maybe(text(escape, 0, 40));
  }
}

/** What the parser must return for a written value. */
function expected(name: string, value: WrittenValue, escape: Escape): FieldValue | undefined {
  if (value === undefined || value === null || value === '') return null;
  const kind = variableKind(name);
  const dashIsNull = escape === 'default' || isListKind(kind) || kind === Kind.int || kind === Kind.float;
  return typeDecoded(kind, value, dashIsNull);
}

const FORMATS: { name: string; format: string; escape: Escape }[] = [
  ...Object.entries(PRESETS).map(([name, p]) => ({ name, format: p.format, escape: p.escape })),
  ...['upstreaminfo', 'gateway_kv', 'json_truth'].map((name) => ({ name: `conf ${name}`, ...resolveFormat({ nginxConf: conf, name }) })),
  { name: 'json_truth written with escape=default', ...resolveFormat({ nginxConf: conf, name: 'json_truth' }), escape: 'default' },
  { name: 'json_truth written with escape=none', ...resolveFormat({ nginxConf: conf, name: 'json_truth' }), escape: 'none' },
];

for (const { name, format, escape } of FORMATS) {
  test(`property: values written by nginx (${name}, escape=${escape}) parse back to themselves`, () => {
    const variables = [...new Set(parseFormatTemplate(format).variables)];
    const parser = compileLogFormat(format, { escape });
    const write = nginxWriter(format, escape);
    const values = fc.record(Object.fromEntries(variables.map((v) => [v, valueOf(v, escape)])) as Record<string, fc.Arbitrary<WrittenValue>>);
    fc.assert(
      fc.property(values, (written) => {
        const line = write(written);
        const record = parser.parse(line);
        if (record instanceof ParseError) assert.fail(`${JSON.stringify(line)}: ${record.reason}`);
        for (const v of variables) assert.deepEqual(record[v], expected(v, written[v], escape), `$${v} of ${JSON.stringify(line)}`);
      }),
      { numRuns: 300 },
    );
  });
}
