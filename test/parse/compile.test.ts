import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLogFormat, FormatError, ParseError, PRESETS } from '../../src/parse/index.ts';
import type { LogRecord } from '../../src/parse/index.ts';

const COMBINED = PRESETS.combined!.format;
const UPSTREAMINFO = PRESETS.upstreaminfo!.format;

function ok(result: LogRecord | ParseError): LogRecord {
  if (result instanceof ParseError) assert.fail(`did not parse: ${result.reason}`);
  return result;
}

function fails(result: LogRecord | ParseError): ParseError {
  assert.ok(result instanceof ParseError, `parsed: ${JSON.stringify(result)}`);
  return result;
}

const combined = compileLogFormat(COMBINED);
const LINE = '203.0.113.9 - - [21/Nov/2026:23:55:28 +0000] "GET /a?b=1 HTTP/1.1" 200 612 "-" "curl/8.5.0"';

test('record: @timestamp first, variables in format order, request parts after $request', () => {
  assert.deepEqual(Object.keys(ok(combined.parse(LINE))), [
    '@timestamp', 'remote_addr', 'remote_user', 'time_local', 'request',
    'request_method', 'request_path', 'request_query', 'request_protocol',
    'status', 'body_bytes_sent', 'http_referer', 'http_user_agent',
  ]);
  assert.deepEqual(combined.fields, Object.keys(ok(combined.parse(LINE))));
  assert.deepEqual(ok(combined.parse(LINE)), {
    '@timestamp': '2026-11-21T23:55:28.000Z', remote_addr: '203.0.113.9', remote_user: null,
    time_local: '21/Nov/2026:23:55:28 +0000', request: 'GET /a?b=1 HTTP/1.1', request_method: 'GET',
    request_path: '/a', request_query: 'b=1', request_protocol: 'HTTP/1.1', status: 200, body_bytes_sent: 612,
    http_referer: null, http_user_agent: 'curl/8.5.0',
  });
});

test('default escaping: "-" and empty are null, \\xHH decoded', () => {
  const p = compileLogFormat('$remote_addr [$proxy_alternative_upstream_name] "$http_user_agent" $uri');
  assert.deepEqual(ok(p.parse('1.2.3.4 [] "\\xC3\\xBC \\x22q\\x22" -')), {
    remote_addr: '1.2.3.4', proxy_alternative_upstream_name: null, http_user_agent: 'ü "q"', uri: null,
  });
});

test('values holding spaces where the format does not quote them', () => {
  // $remote_user with a space, and with the very literal that follows it.
  assert.equal(ok(combined.parse(LINE.replace(' - - ', ' - bob space '))).remote_user, 'bob space');
  assert.equal(ok(combined.parse(LINE.replace(' - - ', ' - a [b '))).remote_user, 'a [b');
  assert.equal(ok(combined.parse(LINE.replace(' - - ', ' - x [21/Nov/2026:23:55:28 +0000] y '))).remote_user, 'x [21/Nov/2026:23:55:28 +0000] y');
  // An unquoted $uri with spaces, followed by numbers.
  const p = compileLogFormat('$remote_addr $request_method $uri $status $body_bytes_sent $request_time');
  assert.deepEqual(ok(p.parse('::1 GET /a b 200 1 /c 404 17 0.004')), {
    remote_addr: '::1', request_method: 'GET', uri: '/a b 200 1 /c', status: 404, body_bytes_sent: 17, request_time: 0.004,
  });
  // Unquoted header values with spaces, anchored on key= literals.
  const kv = compileLogFormat('ua=$http_user_agent xff=$http_x_forwarded_for st=$status');
  assert.deepEqual(ok(kv.parse('ua=Mozilla/5.0 (X11; Linux) xff=1.1.1.1, 2.2.2.2 st=200')), {
    http_user_agent: 'Mozilla/5.0 (X11; Linux)', http_x_forwarded_for: '1.1.1.1, 2.2.2.2', status: 200,
  });
});

test('upstream lists: tries ", ", groups " : ", "-" items null, unquoted between spaces', () => {
  const p = compileLogFormat(UPSTREAMINFO);
  const head = '10.0.0.1 - - [21/Nov/2026:23:55:28 +0000] "GET / HTTP/1.1" 200 5 "-" "-" 80 1.001 [ns-svc-80] [] ';
  const r = ok(p.parse(head + '10.0.0.7:80, 10.0.0.8:80 : 10.1.0.1:80 0, -, 5 0.000, 0.001 : 1.000 502, 504 : 200 abc123'));
  assert.deepEqual(r.upstream_addr, ['10.0.0.7:80', '10.0.0.8:80', '10.1.0.1:80']);
  assert.deepEqual(r.upstream_response_length, [0, null, 5]);
  assert.deepEqual(r.upstream_response_time, [0, 0.001, 1]);
  assert.deepEqual(r.upstream_status, [502, 504, 200]);
  assert.equal(r.req_id, 'abc123');
  const none = ok(p.parse(head + '- - - - abc123'));
  assert.deepEqual([none.upstream_addr, none.upstream_response_length, none.upstream_response_time, none.upstream_status], [null, null, null, null]);
  const gaveUp = ok(p.parse(head + '10.0.0.7:80 0 0.300 - abc123'));
  assert.equal(gaveUp.upstream_status, null);
  assert.deepEqual(gaveUp.upstream_response_time, [0.3]);
});

test('escape=json: JSON escapes decoded, "" is null, "-" is a value except in lists', () => {
  const p = compileLogFormat('{"ua":"$http_user_agent","u":"$remote_user","s":$status,"us":"$upstream_status","rt":"$request_time"}', { escape: 'json' });
  assert.deepEqual(ok(p.parse('{"ua":"say \\"hi\\" \\\\ \\u0001 é","u":"-","s":200,"us":"-","rt":""}')), {
    http_user_agent: 'say "hi" \\ \u0001 é', remote_user: '-', status: 200, upstream_status: null, request_time: null,
  });
  assert.deepEqual(ok(p.parse('{"ua":"\\\\","u":"","s":499,"us":"502, 200","rt":"0.001"}')), {
    http_user_agent: '\\', remote_user: null, status: 499, upstream_status: [502, 200], request_time: 0.001,
  });
});

test('escape=default inside JSON: \\xHH decoded, quotes cannot be raw', () => {
  const p = compileLogFormat(PRESETS.json_default!.format);
  const r = ok(p.parse(
    '{"msec":"1795305328.878","remote_addr":"::1","remote_user":"-","request":"GET / HTTP/1.1","status":"200","body_bytes_sent":"3",' +
      '"request_time":"0.000","http_referer":"-","http_user_agent":"\\x22x\\x22 \\xE4\\xB8\\xAD","http_x_forwarded_for":"-","host":"h",' +
      '"request_id":"id","upstream_addr":"-","upstream_status":"-","upstream_response_time":"-"}',
  ));
  assert.equal(r['@timestamp'], '2026-11-21T23:55:28.878Z');
  assert.equal(r.http_user_agent, '"x" 中');
  assert.equal(r.remote_user, null);
});

test('escape=none: values as written, "-" kept for text, empty is null', () => {
  const p = compileLogFormat('$remote_addr "$http_user_agent" $status "$http_referer"', { escape: 'none' });
  assert.deepEqual(ok(p.parse('1.2.3.4 "a "quoted" agent" 200 ""')), {
    remote_addr: '1.2.3.4', http_user_agent: 'a "quoted" agent', status: 200, http_referer: null,
  });
  assert.equal(ok(p.parse('1.2.3.4 "-" 200 "x\\x22"')).http_referer, 'x\\x22', 'no decoding with escape=none');
});

test('@timestamp: $msec preferred (it has milliseconds), then $time_iso8601, then $time_local', () => {
  const p = compileLogFormat('[$time_local] $msec $status');
  assert.equal(ok(p.parse('[21/Nov/2026:23:55:28 +0000] 1795305328.878 200'))['@timestamp'], '2026-11-21T23:55:28.878Z');
  const iso = compileLogFormat('$time_iso8601 $status');
  assert.equal(ok(iso.parse('2026-11-22T01:55:28+02:00 200'))['@timestamp'], '2026-11-21T23:55:28.000Z');
  const none = compileLogFormat('$remote_addr $status');
  assert.ok(!('@timestamp' in ok(none.parse('1.2.3.4 200'))));
});

test('$request is not split when the format has its own request parts', () => {
  const p = compileLogFormat('"$request" $request_method $status');
  assert.deepEqual(Object.keys(ok(p.parse('"GET / HTTP/1.1" GET 200'))), ['request', 'request_method', 'status']);
});

test('variables: ${name} braces, upper case names, unknown variables as text, repeated variables', () => {
  const p = compileLogFormat('${remote_addr}:$SERVER_PORT $my_var|$status|$status');
  assert.deepEqual(ok(p.parse('1.2.3.4:443 any thing|200|201')), { remote_addr: '1.2.3.4', server_port: 443, my_var: 'any thing', status: 201 });
});

test('adjacent variables split by shape; a split that cannot be made is a FormatError', () => {
  const p = compileLogFormat('$scheme://$host$request_uri $status');
  assert.deepEqual(ok(p.parse('https://example.com:8443/a/b?c=1 200')), {
    scheme: 'https', host: 'example.com:8443', request_uri: '/a/b?c=1', status: 200,
  });
  assert.throws(() => compileLogFormat('"$http_a$http_b"'), (e: unknown) => e instanceof FormatError && /\$http_a is followed directly by \$http_b/.test(e.message));
  assert.throws(() => compileLogFormat('$remote_addr $'), FormatError);
  assert.throws(() => compileLogFormat('${remote_addr'), FormatError);
});

test('bad lines: a ParseError that says where and why', () => {
  const badLiteral = fails(combined.parse('203.0.113.9 X - [21/Nov/2026:23:55:28 +0000] "GET / HTTP/1.1" 200 1 "-" "-"'));
  assert.match(badLiteral.reason, /expected " - " after \$remote_addr at offset 11/);
  assert.equal(badLiteral.column, 11);
  const badInt = fails(combined.parse(LINE.replace(' 200 ', ' OK ')));
  assert.match(badInt.reason, /\$status at offset \d+: "OK" is not an integer/);
  const trailing = fails(combined.parse(LINE + ' extra'));
  assert.match(trailing.reason, /after the last field/);
  const prefix = fails(compileLogFormat('[$time_local] $status').parse('x'));
  assert.match(prefix.reason, /does not start with/);
  assert.equal(prefix.column, 0);
  assert.ok(fails(combined.parse('')) instanceof ParseError);
  assert.ok(fails(combined.parse('203.0.113.9 - - [21/Nov/2026:23:55:28 +0000] "GET / HTTP/1.1"')) instanceof ParseError);
});

test('no state leaks from one line to the next', () => {
  const first = ok(combined.parse(LINE));
  fails(combined.parse(LINE.replace(' 200 ', ' x ')));
  ok(combined.parse(LINE.replace(' - - ', ' - a [b ').replace('21/Nov', '22/Nov')));
  assert.deepEqual(ok(combined.parse(LINE)), first);
  assert.notEqual(combined.parse(LINE), first, 'a new record per line');
});

test('pathological lines end in bounded time', () => {
  const p = compileLogFormat('$remote_user $http_a $http_b $http_c $status');
  const line = 'a '.repeat(5000) + 'x';
  const start = performance.now();
  fails(p.parse(line));
  assert.ok(performance.now() - start < 2000);
});
