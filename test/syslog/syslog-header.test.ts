import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MalformedSyslog, parseSyslogHeader } from '../../src/syslog/syslog-header.ts';

const LINE = '127.0.0.1 - - [30/Nov/2026:16:23:00 +0000] "GET /x?a=1 HTTP/1.1" 200 3 "-" "curl/7.88.1"';

function parse(text: string) {
  const buf = Buffer.from(text);
  const header = parseSyslogHeader(buf, 0, buf.length);
  if (header instanceof MalformedSyslog) return header;
  return { tag: header.tag, hostname: header.hostname, msg: buf.toString('utf8', header.msgStart, header.msgEnd) };
}

test('RFC 3164 exactly as nginx 1.22 writes it (captured from access_log syslog:), with and without its host name', () => {
  assert.deepEqual(parse(`<190>Nov 30 16:23:00 vm nginx_a: ${LINE}`), { tag: 'nginx_a', hostname: 'vm', msg: LINE });
  assert.deepEqual(parse(`<190>Nov 30 16:23:00 nginx: ${LINE}`), { tag: 'nginx', hostname: '', msg: LINE });
  // Days below 10 are padded with a space.
  assert.deepEqual(parse(`<134>Dec  3 01:02:03 gw-1 edge: ${LINE}`), { tag: 'edge', hostname: 'gw-1', msg: LINE });
});

test('RFC 3164 from relays: TAG[PID]:, an RFC 3339 time, a trailing newline', () => {
  assert.deepEqual(parse(`<190>2026-11-30T16:23:00.123456+00:00 vm nginx[42]: ${LINE}\n`), { tag: 'nginx', hostname: 'vm', msg: LINE });
});

test('RFC 5424: APP-NAME is the tag; nil values, structured data with escapes, and a BOM are handled', () => {
  assert.deepEqual(parse(`<190>1 2026-11-30T16:23:00.000Z vm nginx_a - - - ${LINE}`), { tag: 'nginx_a', hostname: 'vm', msg: LINE });
  assert.deepEqual(parse(`<190>1 2026-11-30T16:23:00Z - api 12 ID7 [x@1 a="b\\]c" d="e"][y@2 z="1"] \ufeff${LINE}`), { tag: 'api', hostname: '', msg: LINE });
  // rsyslog keeps the space nginx put after `TAG:` in %msg%.
  assert.deepEqual(parse(`<190>1 2026-11-30T16:23:00+00:00 vm nginx_a - - -  ${LINE}`), { tag: 'nginx_a', hostname: 'vm', msg: LINE });
});

test('what is not a syslog message says why', () => {
  assert.equal((parse(LINE) as MalformedSyslog).reason, 'does not start with <PRI>');
  assert.equal((parse(`<999>Nov 30 16:23:00 vm x: y`) as MalformedSyslog).reason, 'bad <PRI>');
  assert.equal((parse(`<190>yesterday vm x: y`) as MalformedSyslog).reason, 'no RFC 3164 timestamp');
  assert.equal((parse(`<190>1 2026-11-30T16:23:00Z vm`) as MalformedSyslog).reason, 'RFC 5424 header cut short');
});
