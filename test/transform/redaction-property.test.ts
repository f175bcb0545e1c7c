/**
 * Property: with redact_query configured, no configured parameter's value
 * reaches Kafka, in any field of the record or in a dead-letter record
 * (its text and its reason), whatever the request, referer, parameter
 * order, name case or percent-encoding, and however the line is broken.
 *
 * Lines are written as nginx writes them: `combined` (default escaping:
 * `"` and `\` as \xHH) and the custom_json log_format of json_nginx.conf
 * (escape=json). Values are what a client sends in a URL: percent-encoded
 * text, plus raw quotes and backslashes (curl sends them as typed). Each
 * value is framed by markers (SECRETn_ ... _ENDn): neither may show up, so
 * a value cut short is caught, not only a whole one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encode } from './encoder-harness.ts';
import { JSON_CONF } from './fixture-records.ts';

const SECRET_PARAMS = ['token', 'api_key', 'password'];

/** How a client may spell a parameter's name: any case, any of its characters percent-encoded. */
const nameSpelling = (name: string) =>
  fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: name.length, maxLength: name.length }).map((flags) =>
    [...name].map((c, i) => (flags[i]![1] ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : flags[i]![0] ? c.toUpperCase() : c)).join(''),
  );

const valueText = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.stringMatching(/^[A-Za-z0-9._~"\\!*'()%+-]{0,12}$/),
);

interface Param {
  name: string;
  value: string;
  secret: boolean;
}

const param = fc.oneof(
  fc.record({ secret: fc.constant(true), name: fc.constantFrom(...SECRET_PARAMS).chain(nameSpelling), value: valueText }),
  fc.record({ secret: fc.constant(false), name: fc.constantFrom('page', 'q', 'lang', 'tokens', 'mytoken'), value: valueText }),
);

/** A query string; secret values get their markers here, numbered. */
function query(params: Param[], counter: { n: number }, separators: string[]): string {
  return params
    .map((p, i) => {
      const value = p.secret ? `SECRET${++counter.n}_${p.value}_END${counter.n}` : p.value.replace(/SECRET|END/g, '');
      return `${i === 0 ? '' : separators[i % separators.length]}${p.name}=${value}`;
    })
    .join('');
}

/** nginx's default escaping: `"`, `\`, control and non-ASCII bytes as \xHH. */
function nginxDefault(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b === 0x22 || b === 0x5c || b < 0x20 || b >= 0x7f ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('');
}

/** escape=json: `"` and `\` backslashed, control bytes \u00XX. */
function nginxJson(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

const request = fc.record({
  ip: fc.ipV4(),
  path: fc.constantFrom('/', '/login', '/api/v1/items'),
  params: fc.array(param, { minLength: 1, maxLength: 5 }),
  referer: fc.option(fc.array(param, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  separators: fc.array(fc.constantFrom('&', '&', ';', '&amp;'), { minLength: 1, maxLength: 3 }),
  ua: fc.string({ maxLength: 20 }),
  breakage: fc.oneof(fc.constant({ kind: 'none' as const }), fc.constant({ kind: 'junk' as const }), fc.integer({ min: 0, max: 400 }).map((at) => ({ kind: 'cut' as const, at }))),
});

test('property: no configured parameter value is shipped, in a record or a dead letter, combined and JSON logs', () => {
  let deadLetters = 0;
  let records = 0;
  fc.assert(
    fc.property(request, (r) => {
      const counter = { n: 0 };
      const uri = `${r.path}?${query(r.params, counter, r.separators)}`;
      const referer = r.referer === undefined ? '' : `https://shop.example/search?${query(r.referer, counter, r.separators)}`;
      const ua = r.ua.replace(/SECRET|END/g, '');
      const combined = `${r.ip} - - [22/Nov/2026:10:00:00 +0000] "${nginxDefault(`GET ${uri} HTTP/1.1`)}" 200 12 "${referer === '' ? '-' : nginxDefault(referer)}" "${nginxDefault(ua)}"`;
      const json =
        `{"ts":"2026-11-22T10:00:00+00:00","ip":"${r.ip}","user":"","req":"${nginxJson(`GET ${uri} HTTP/1.1`)}","st":200,"bytes":12,"rt":0.001,` +
        `"ref":"${nginxJson(referer)}","ua":"${nginxJson(ua)}","xff":"","up":"","ust":,"urt":,"rid":"abc","host":"shop.example","env":"t"}`;
      const broken = (line: string) => (r.breakage.kind === 'junk' ? `${line} junk` : r.breakage.kind === 'cut' ? line.slice(0, r.breakage.at) : line);
      const transforms = { privacy: { redact_query: { params: SECRET_PARAMS } } };
      for (const input of [
        { format: 'combined', lines: [broken(combined)] },
        { nginx_conf: JSON_CONF, format_name: 'custom_json', lines: [broken(json)] },
      ]) {
        const { lines, ...format } = input;
        const { byTopic } = encode({ ...format, transforms }, lines);
        const shipped = [...byTopic.values()].flat().map((m) => m.value + JSON.stringify(m.headers)).join('\n');
        for (let n = 1; n <= counter.n; n++) {
          assert.ok(!shipped.includes(`SECRET${n}_`) && !shipped.includes(`_END${n}`), `value ${n} shipped:\n${lines[0]}\n→ ${shipped}`);
        }
        deadLetters += byTopic.get('dead')?.length ?? 0;
        records += byTopic.get('logs')?.length ?? 0;
      }
    }),
    { numRuns: 400 },
  );
  console.log(`  ${records} records and ${deadLetters} dead letters checked`);
  assert.ok(records > 100 && deadLetters > 100, 'both paths exercised');
});
