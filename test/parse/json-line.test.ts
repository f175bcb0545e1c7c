/**
 * JSON access logs read key by key (src/parse/json-line.ts): by the
 * log_format's keys, by key name (the json presets), nginx's non-JSON
 * quirks, reasons for lines that are not JSON objects, and a parser that
 * never throws whatever the line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileLogFormat, ParseError, resolveFormat } from '../../src/parse/index.ts';
import type { LogRecord } from '../../src/parse/index.ts';
import { isNginxVariable } from '../../src/parse/variables.ts';

function ok(result: LogRecord | ParseError): LogRecord {
  if (result instanceof ParseError) assert.fail(result.reason);
  return result;
}

function fails(result: LogRecord | ParseError, reason: RegExp): void {
  assert.ok(result instanceof ParseError, `expected a ParseError, got ${JSON.stringify(result)}`);
  assert.match(result.reason, reason);
}

const TEAM = `escape=json '{"ts":"$time_iso8601","ip":"$remote_addr","st":$status,"rt":$request_time,"req":"$request","ua":"$http_user_agent","env":"prod"}'`;
const team = () => compileLogFormat(resolveFormat({ format: TEAM }));
const TS = '2026-11-21T23:55:28+00:00';

test('log_format keys: variables by key, in any order, keys missing or added', () => {
  const p = team();
  assert.deepEqual(p.fields, ['@timestamp', 'time_iso8601', 'remote_addr', 'status', 'request_time', 'request', 'request_method', 'request_path', 'request_query', 'request_protocol', 'http_user_agent']);
  const inOrder = ok(p.parse(`{"ts":"${TS}","ip":"::1","st":200,"rt":0.004,"req":"GET /a?b=1 HTTP/1.1","ua":"curl","env":"prod"}`));
  assert.deepEqual(inOrder, {
    '@timestamp': '2026-11-21T23:55:28.000Z', time_iso8601: TS, remote_addr: '::1', status: 200, request_time: 0.004, request: 'GET /a?b=1 HTTP/1.1',
    request_method: 'GET', request_path: '/a', request_query: 'b=1', request_protocol: 'HTTP/1.1', http_user_agent: 'curl',
  });
  assert.deepEqual(Object.keys(inOrder), ['@timestamp', 'time_iso8601', 'remote_addr', 'status', 'request_time', 'request', ...['request_method', 'request_path', 'request_query', 'request_protocol'], 'http_user_agent']);
  // Another order, "rt" and "env" missing, keys the format does not have: by name, else as they are.
  const other = ok(p.parse(`{"ua":"curl","st":"404","ts":"${TS}","ip":"::1","request_length":"311","cache":"","n":7,"ok":true,"tags":["a",{"b":null}]}`));
  assert.deepEqual(Object.keys(other), ['@timestamp', 'http_user_agent', 'status', 'time_iso8601', 'remote_addr', 'request_length', 'cache', 'n', 'ok', 'tags']);
  assert.deepEqual(other, {
    '@timestamp': '2026-11-21T23:55:28.000Z', http_user_agent: 'curl', status: 404, time_iso8601: TS, remote_addr: '::1', request_length: 311,
    cache: '', n: 7, ok: true, tags: ['a', { b: null }],
  });
});

test("log_format keys: nginx's unquoted quirks, quoted or not alike, a value that is not its variable fails the line", () => {
  const p = compileLogFormat(resolveFormat({ format: `escape=json '{"st":$status,"us":$upstream_status,"urt":$upstream_response_time,"u":"$remote_user"}'` }));
  assert.deepEqual(ok(p.parse('{"st":200,"us":,"urt":,"u":""}')), { status: 200, upstream_status: null, upstream_response_time: null, remote_user: null });
  assert.deepEqual(ok(p.parse('{"st":499,"us":-,"urt":0.000,"u":"-"}')), { status: 499, upstream_status: null, upstream_response_time: [0], remote_user: '-' });
  assert.deepEqual(ok(p.parse('{"st":"200","us":502, 200 : 404,"urt":0.001, 0.002 : 0.003,"u":"bob"}')), {
    status: 200, upstream_status: [502, 200, 404], upstream_response_time: [0.001, 0.002, 0.003], remote_user: 'bob',
  });
  assert.deepEqual(ok(p.parse('{"us":"502, 200","st":null}')), { upstream_status: [502, 200], status: null });
  fails(p.parse('{"st":"abc"}'), /^"st" \(\$status\) at offset 7: "abc" is not an integer$/);
  fails(p.parse('{"st":{"a":1}}'), /"st" \(\$status\) at offset 6: "\{" is not an integer/);
  fails(p.parse('{"us":"502 200"}'), /"us" \(\$upstream_status\).*is not an upstream list of integers/);
});

test('log_format with default escaping: \\xHH inside strings are bytes, then UTF-8; "-" is null; a string ends at the first quote', () => {
  const p = compileLogFormat('{"ua":"$http_user_agent","st":$status,"us":$upstream_status,"x":"$arg_x"}');
  assert.deepEqual(ok(p.parse('{"ua":"\\x22q\\x22 \\x5C \\xE4\\xB8\\xAD \\xFF","st":200,"us":-,"x":"-"}')), {
    http_user_agent: '"q" \\ 中 \uFFFD', status: 200, upstream_status: null, arg_x: null,
  });
  fails(p.parse('{"ua":"a"b","st":200}'), /expected "," or "}" after the value of "ua"/);
});

test('format json (no log_format): keys named like nginx variables are typed, leniently; others kept as written', () => {
  const p = compileLogFormat(resolveFormat({ format: 'json' }));
  assert.equal(p.openKeys, true);
  const r = ok(p.parse(
    '{"msec":"1795305328.878","status":"ok","body_bytes_sent":612,"remote_user":"","http_referer":"-","upstream_status":"502, 200",' +
      '"ts":"x","empty":"","dash":"-","n":-1.5e3,"bare":-,"none":,"t":true,"f":false,"z":null,"o":{"a":[1,"\\u00e9"]},"__proto__":{"p":1}}',
  ));
  assert.deepEqual(r, {
    '@timestamp': '2026-11-21T23:55:28.878Z', msec: 1795305328.878, status: 'ok', body_bytes_sent: 612, remote_user: null, http_referer: '-',
    upstream_status: [502, 200], ts: 'x', empty: '', dash: '-', n: -1500, bare: null, none: null, t: true, f: false, z: null, o: { a: [1, 'é'] },
    ['__proto__']: { p: 1 },
  });
  assert.equal(Object.getPrototypeOf(r), Object.prototype, 'a "__proto__" key is a key, not the prototype');
  assert.ok(Object.hasOwn(r, '__proto__'));
  // A line's own @timestamp gives way to the one derived from a time variable; kept when there is none.
  assert.equal(ok(p.parse('{"@timestamp":"yesterday","msec":"1795305328.878"}'))['@timestamp'], '2026-11-21T23:55:28.878Z');
  assert.deepEqual(ok(p.parse('{"@timestamp":"yesterday","a":1}')), { '@timestamp': 'yesterday', a: 1 });
  assert.deepEqual(ok(p.parse('{}')), {});
  assert.deepEqual(ok(p.parse('{"a":1,"a":2}')), { a: 2 }, 'a key written twice: the later value, as JSON.parse');
});

test('format json_default: the same with default escaping ("-" is null for variables, a string as written otherwise)', () => {
  const p = compileLogFormat(resolveFormat({ format: 'json_default' }));
  assert.deepEqual(ok(p.parse('{"remote_user":"-","status":"200","k":"-","ua":"\\xC3\\xA9\\x09"}')), { remote_user: null, status: 200, k: '-', ua: 'é\t' });
});

test('JSON whitespace anywhere between tokens', () => {
  const p = team();
  assert.deepEqual(ok(p.parse(`  {\t"st" : 200 ,  "ip":  "::1" , "rt" : 0.5 }  `)), { status: 200, remote_addr: '::1', request_time: 0.5 });
});

test('not a JSON object: a ParseError with the reason and where, never a throw', () => {
  const p = team();
  fails(p.parse(''), /^empty line, not a JSON object$/);
  fails(p.parse('127.0.0.1 - - [21/Nov/2026:23:55:28 +0000] "GET / HTTP/1.1" 200 5'), /^not a JSON object: the line starts with "127\.0\.0\.1 - - \[21\/Nov/);
  fails(p.parse('[1,2]'), /not a JSON object/);
  fails(p.parse('{"st":200'), /expected "," or "}" after the value of "st" \(\$status\) at offset 9/);
  fails(p.parse('{"ua":"no end}'), /the value of "ua" \(\$http_user_agent\) at offset 6 is not closed/);
  fails(p.parse('{"st" 200}'), /expected ":" after the key "st" \(\$status\) at offset 6/);
  fails(p.parse('{st:200}'), /expected a key \(a quoted name\) at offset 1/);
  fails(p.parse('{"st":200} trailing'), /unexpected " trailing" at offset 10, after the JSON object/);
  fails(p.parse('{"st":200,}'), /expected a key/);
  fails(p.parse(`{"deep":${'['.repeat(100)}${']'.repeat(100)}}`), /nesting deeper than 32 levels at offset \d+ in the value of "deep"/);
  const column = p.parse('{"st":"x"}');
  assert.ok(column instanceof ParseError && column.column === 7);
});

test('key orders that change from line to line, and more of them than are cached, are each read right', () => {
  const p = compileLogFormat(resolveFormat({ format: 'json' }));
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  const random = fc.sample(fc.shuffledSubarray(keys), { numRuns: 400, seed: 7 });
  for (const order of random) {
    const object = Object.fromEntries(order.map((k, i) => [k, i % 2 === 0 ? i : `v${i}`]));
    assert.deepEqual(ok(p.parse(JSON.stringify(object))), object);
    assert.deepEqual(Object.keys(ok(p.parse(JSON.stringify(object)))), order);
  }
  // Thousands of distinct keys (beyond what is remembered) are read all the same.
  for (let i = 0; i < 3000; i += 100) {
    const object = Object.fromEntries(Array.from({ length: 100 }, (_, j) => [`key${i + j}`, j]));
    assert.deepEqual(ok(p.parse(JSON.stringify(object))), object);
  }
});

test('formats that are not a flat JSON object keep the positional parser (format order), as escape=none does', () => {
  const nested = compileLogFormat('{"req":{"m":"$request_method","s":$status}}', { escape: 'json' });
  assert.equal(nested.openKeys, undefined);
  assert.deepEqual(ok(nested.parse('{"req":{"m":"GET","s":200}}')), { request_method: 'GET', status: 200 });
  const text = compileLogFormat('{"rt":"$request_time s","h":"$host"}', { escape: 'json' });
  assert.deepEqual(ok(text.parse('{"rt":"0.004 s","h":"a"}')), { request_time: 0.004, host: 'a' });
  const none = compileLogFormat('{"ua":"$http_user_agent","st":$status}', { escape: 'none' });
  assert.deepEqual(ok(none.parse('{"ua":"a "b" c","st":200}')), { http_user_agent: 'a "b" c', status: 200 });
  const braces = compileLogFormat('{"h":"${host}","s":${status}}', { escape: 'json' });
  assert.deepEqual(ok(braces.parse('{"s":1,"h":"x"}')), { status: 1, host: 'x' }, '${name} in a flat object: read by key');
});

test('property: any JSON object whose keys are not nginx variable names parses to what JSON.parse gives, key order included', () => {
  const p = compileLogFormat(resolveFormat({ format: 'json' }));
  const key = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => !isNginxVariable(k) && k !== '@timestamp');
  const objects = fc.dictionary(key, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 12 });
  fc.assert(
    fc.property(objects, (object) => {
      const line = JSON.stringify(object);
      const expected = JSON.parse(line) as LogRecord;
      const record = ok(p.parse(line));
      assert.deepEqual(record, expected);
      assert.deepEqual(Object.keys(record), Object.keys(expected));
    }),
    { numRuns: 500 },
  );
});

/** Lines that are almost JSON: valid lines cut, spliced, with characters inserted. */
function mangled(): fc.Arbitrary<string> {
  const valid = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((o) => JSON.stringify(o));
  const noise = fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '-', ' ', '\\x', '\\u12', '\uFFFD', '\u0000', 'null');
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.tuple(valid, fc.nat(), fc.nat()).map(([l, a, b]) => l.slice(Math.min(a, b) % (l.length + 1), Math.max(a, b) % (l.length + 1) + 1)),
    fc.tuple(valid, fc.nat(), noise).map(([l, at, n]) => l.slice(0, at % (l.length + 1)) + n + l.slice(at % (l.length + 1))),
  );
}

test('property: whatever the line, the parser returns a record or a ParseError (no throw, no hang)', () => {
  const parsers = [
    compileLogFormat(resolveFormat({ format: 'json' })),
    compileLogFormat(resolveFormat({ format: 'json_default' })),
    team(),
    compileLogFormat('{"st":$status,"us":$upstream_status,"ua":"$http_user_agent"}'),
  ];
  for (const parser of parsers) {
    fc.assert(
      fc.property(mangled(), (line) => {
        const result = parser.parse(line);
        assert.ok(result instanceof ParseError || (typeof result === 'object' && result !== null));
        if (result instanceof ParseError) assert.ok(result.reason.length > 0);
      }),
      { numRuns: 1000 },
    );
  }
});
