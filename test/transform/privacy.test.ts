/**
 * transforms.privacy on the real nginx fixtures: addresses truncated or
 * hashed (X-Forwarded-For lists, upstream lists with ports, IPv6), query
 * parameters redacted in every URL field, headers dropped or hashed, and
 * the same redaction on the error path (the dead-letter record's text and
 * the reason's excerpts of it).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../../src/config/load.ts';
import type { LogRecord } from '../../src/parse/index.ts';
import { Anonymiser, truncator } from '../../src/transform/ip-anonymise.ts';
import { KeyedHash } from '../../src/transform/keyed-hash.ts';
import { QueryRedactor } from '../../src/transform/query-redact.ts';
import { tempDir } from '../support/agent.ts';
import { encode } from './encoder-harness.ts';
import { compile, fixtureLines, JSON_CONF, parsed, run, type FormatOf } from './fixture-records.ts';

const shipped = (out: ReturnType<typeof run>): LogRecord[] => out.map((r) => (typeof r === 'string' ? assert.fail(`dropped: ${r}`) : r));
/** What /24 and /48 truncation makes of one IPv4 address (the test's own arithmetic). */
const slash24 = (ip: string) => ip.replace(/\.\d+$/, '.0');

test('truncation: remote_addr and X-Forwarded-For lists of main.log, element by element', () => {
  const lines = fixtureLines('main.log');
  const compiled = compile({ format: 'main' }, { privacy: { ip: {} } });
  const before = parsed(compiled.parser, lines);
  const after = shipped(run(compiled, lines));
  let lists = 0;
  after.forEach((r, i) => {
    const was = before[i]!;
    assert.equal(r.remote_addr, was.remote_addr === '::1' ? '::' : slash24(was.remote_addr as string), `line ${i + 1}`);
    if (typeof was.http_x_forwarded_for === 'string' && was.http_x_forwarded_for.includes(',')) lists++;
    const xff = was.http_x_forwarded_for === null ? null : (was.http_x_forwarded_for as string).split(', ').map(slash24).join(', ');
    assert.equal(r.http_x_forwarded_for, xff, `line ${i + 1}`);
  });
  console.log(`  ${after.length} records, ${lists} X-Forwarded-For lists; e.g. ${JSON.stringify(before[lines.length - 1]!.http_x_forwarded_for)} → ${JSON.stringify(after[lines.length - 1]!.http_x_forwarded_for)}`);
  assert.ok(lists > 0);
});

test('upstream_addr (an array of address:port) when listed; other prefixes; IPv6, bracketed, mapped, sockets and names', () => {
  const lines = fixtureLines('upstreaminfo.log');
  const compiled = compile({ format: 'upstreaminfo' }, { privacy: { ip: { fields: ['remote_addr', 'upstream_addr'], ipv4_prefix: 16 } } });
  const before = parsed(compiled.parser, lines);
  const after = shipped(run(compiled, lines));
  after.forEach((r, i) => {
    const was = before[i]!.upstream_addr;
    const want = Array.isArray(was) ? was.map((a) => (a as string).replace(/^(\d+\.\d+)\.\d+\.\d+/, '$1.0.0')) : was;
    assert.deepEqual(r.upstream_addr, want, `line ${i + 1}`);
  });
  assert.ok(after.some((r) => JSON.stringify(r.upstream_addr) === '["127.0.0.0:18099","127.0.0.0:18081"]'));

  const anonymiser = new Anonymiser(truncator(24, 48));
  const cases: [string, string][] = [
    ['2001:db8:1234:5678::1', '2001:db8:1234::'],
    ['[2001:db8:1234:5678::1]:8443', '[2001:db8:1234::]:8443'],
    ['::ffff:192.0.2.77', '::ffff:192.0.2.0'],
    ['192.0.2.77:80, 198.51.100.3:80 : 203.0.113.9:8080', '192.0.2.0:80, 198.51.100.0:80 : 203.0.113.0:8080'],
    ['unix:/run/php/php-fpm.sock', 'unix:/run/php/php-fpm.sock'],
    ['unknown, backend.internal, 10.1.2.3', 'unknown, backend.internal, 10.1.2.0'],
    ['-', '-'],
    ['0.0.0.0', '0.0.0.0'],
  ];
  for (const [input, want] of cases) assert.equal(anonymiser.text(input), want, input);
  assert.equal(new Anonymiser(truncator(0, 0)).text('203.0.113.9, 2001:db8::1'), '0.0.0.0, ::');
  assert.equal(new Anonymiser(truncator(32, 128)).text('203.0.113.9, 2001:db8::1'), '203.0.113.9, 2001:db8::1');
});

test('keyed hash: HMAC-SHA256 of the address under the secret, from the environment or a file', (t) => {
  const lines = fixtureLines('main.log');
  const secret = 'correct horse battery staple';
  const fromEnv = compile({ format: 'main' }, { privacy: { secret_env: 'LOGSHIP_TEST_KEY', ip: { mode: 'hash' } } }, { LOGSHIP_TEST_KEY: secret });
  const before = parsed(fromEnv.parser, lines);
  const hashed = shipped(run(fromEnv, lines));
  const hmac = (ip: string) => createHmac('sha256', secret).update(ip).digest('hex').slice(0, 16);
  hashed.forEach((r, i) => {
    assert.equal(r.remote_addr, hmac(before[i]!.remote_addr as string));
    // Elements that are not addresses (a client's "unknown") are kept as written.
    const xff = before[i]!.http_x_forwarded_for;
    if (typeof xff === 'string') assert.equal(r.http_x_forwarded_for, xff.split(', ').map((e) => (isIP(e) ? hmac(e) : e)).join(', '));
  });
  const file = join(tempDir(t), 'ip.key');
  writeFileSync(file, `${secret}\n`);
  const fromFile = shipped(run(compile({ format: 'main' }, { privacy: { secret_file: file, ip: { mode: 'hash' } } }), lines));
  assert.deepEqual(fromFile, hashed, 'the same key from a file (its newline ignored)');
  const other = shipped(run(compile({ format: 'main' }, { privacy: { secret_env: 'K', ip: { mode: 'hash' } } }, { K: 'another key' }), lines));
  assert.notEqual(other[0]!.remote_addr, hashed[0]!.remote_addr);
});

test('query parameters redacted in request, request_query and http_referer, by name, any case, URL-encoded names', () => {
  const lines = fixtureLines('combined.log');
  const compiled = compile({ format: 'combined' }, { privacy: { redact_query: { params: ['LANG', 'q', 'y'] } } });
  const before = parsed(compiled.parser, lines);
  const after = shipped(run(compiled, lines));
  let redacted = 0;
  after.forEach((r, i) => {
    const was = before[i]!;
    const want = (v: unknown) => (typeof v === 'string' ? v.replace(/(^|[?&])(lang|q|y)=[^&#\s]+/g, '$1$2=REDACTED') : v);
    for (const field of ['request', 'request_query', 'http_referer'] as const) assert.equal(r[field], want(was[field]), `line ${i + 1} ${field}`);
    if (JSON.stringify(r) !== JSON.stringify(was)) redacted++;
  });
  const all = JSON.stringify(after);
  for (const secret of ['zh-CN', 'shoes', '鞋子', '%E4%BD%A0%E5%A5%BD', '"raw"']) assert.ok(!all.includes(secret), secret);
  assert.ok(all.includes('x=%ZZ&y=REDACTED'), 'a parameter after one that is not valid percent-encoding');
  console.log(`  ${redacted} of ${after.length} records redacted`);

  const redactor = new QueryRedactor(['token', 'api_key'], 'REDACTED');
  const cases: [string, string][] = [
    ['/a?TOKEN=abc&page=2', '/a?TOKEN=REDACTED&page=2'],
    ['/a?api%5Fkey=abc', '/a?api%5Fkey=REDACTED'],
    ['/a?API%5fKEY=abc#frag', '/a?API%5fKEY=REDACTED#frag'],
    ['https://x/?a=1&amp;token=abc', 'https://x/?a=1&amp;token=REDACTED'],
    ['token=abc&tokens=def', 'token=REDACTED&tokens=def'],
    ['/a?token=&x=1', '/a?token=&x=1'],
    ['/a?mytoken=abc', '/a?mytoken=abc'],
    ['GET /a?token=abc%20def+ghi HTTP/1.1', 'GET /a?token=REDACTED HTTP/1.1'],
  ];
  for (const [input, want] of cases) assert.equal(redactor.field(input), want, input);
});

test('JSON logs with their own keys: the fields named; both escapings with invalid UTF-8 give the same records', () => {
  const transforms = { privacy: { ip: { fields: ['ip', 'xff', 'up'] }, redact_query: { params: ['q', 'fields'], fields: ['req', 'ref'] } } };
  const own = shipped(run(compile({ format: 'json' }, transforms), fixtureLines('custom_json.log')));
  const all = JSON.stringify(own);
  assert.ok(!all.includes('127.0.0.1') && !all.includes('203.0.113.7') && !all.includes('name,price') && !all.includes('q=a'), all.slice(0, 400));
  assert.equal(own[1]!.xff, '203.0.113.0, 198.51.100.0');
  assert.equal(own[1]!.req, 'GET /api/items/7?fields=REDACTED HTTP/1.1');
  // By the log_format: the nginx variables, the defaults apply.
  const byConf = (name: string): FormatOf => ({ nginx_conf: JSON_CONF, format_name: name });
  const json = shipped(run(compile(byConf('custom_json'), { privacy: { ip: {}, redact_query: { params: ['q', 'fields'] } } }), fixtureLines('custom_json.log')));
  const dflt = shipped(run(compile(byConf('custom_json_default'), { privacy: { ip: {}, redact_query: { params: ['q', 'fields'] } } }), fixtureLines('custom_json_default.log')));
  assert.equal(json[1]!.request_query, 'fields=REDACTED');
  assert.equal(json[1]!.http_x_forwarded_for, '203.0.113.0, 198.51.100.0');
  assert.equal(json[0]!.http_referer, 'https://www.example.org/?q=REDACTED&b=c');
  // What privacy touches is the same in both (default escaping cannot tell a "-" User-Agent from none: other fields may differ).
  const touched = (r: LogRecord) => JSON.stringify([r.remote_addr, r.http_x_forwarded_for, r.request, r.request_query, r.http_referer]);
  assert.deepEqual(dflt.map(touched), json.map(touched));
});

test('headers dropped (left out of the JSON) or replaced by their keyed hash', () => {
  const lines = fixtureLines('combined.log');
  const compiled = compile({ format: 'combined' }, { privacy: { secret_env: 'K', headers: { drop: ['http_referer'], hash: ['http_user_agent'] } } }, { K: 'k' });
  const before = parsed(compiled.parser, lines);
  const after = shipped(run(compiled, lines));
  after.forEach((r, i) => {
    const json = JSON.parse(JSON.stringify(r)) as LogRecord;
    assert.ok(!('http_referer' in json), `line ${i + 1}`);
    const ua = before[i]!.http_user_agent;
    assert.equal(json.http_user_agent, ua === null ? null : createHmac('sha256', 'k').update(ua as string).digest('hex').slice(0, 16));
  });
});

test('the error path: dead-letter text and the reason redacted; dead_letter_raw: omit ships neither', () => {
  const good = fixtureLines('combined.log')[1]!;
  const lines = [
    // Not a combined line at all.
    '203.0.113.77 GET /login?user=ann&password=hunter2 from 2001:db8:1234:5678::9',
    // A combined line with extra text: the parser's reason quotes it.
    `${good} ?session=s3cr3t-value&x=1`,
    // Cut inside the token (max_line_bytes): the reason's excerpt is the token's value.
    good.replace('lang=zh-CN', 'token=ABCDEFGHIJKLMNOPQRSTUVWXYZ').slice(0, good.indexOf('lang=') + 20),
    // A quote in the value, as nginx writes it (\x22), and junk after the line.
    `${good.replace('lang=zh-CN', 'token=ABCDEFGHIJKLMNOP\\x22QRSTUVWXYZ')} junk`,
  ];
  const privacy = { ip: {}, redact_query: { params: ['password', 'session', 'token'] } };
  const { byTopic } = encode({ format: 'combined', transforms: { privacy } }, lines);
  const dead = byTopic.get('dead')!.map((m) => JSON.parse(m.value) as { _raw: string; _error: string });
  assert.equal(dead.length, 4);
  for (const secret of ['hunter2', 's3cr3t', 'ABCDEFGHIJKLMNOP', 'QRSTUVWXYZ', '203.0.113.77', '2001:db8:1234:5678', '127.0.0.1']) {
    assert.ok(!JSON.stringify(dead).includes(secret), `${secret} in ${JSON.stringify(dead)}`);
  }
  assert.equal(dead[0]!._raw, '203.0.113.0 GET /login?user=ann&password=REDACTED from 2001:db8:1234::');
  assert.match(dead[1]!._error, /REDACTED/, 'the reason, read again from the redacted line, still says where');
  console.log(`  ${dead.map((d) => d._error).join('\n  ')}`);

  const omitted = encode({ format: 'combined', transforms: { privacy: { ...privacy, dead_letter_raw: 'omit' } } }, lines).byTopic.get('dead')!;
  for (const m of omitted) {
    const record = JSON.parse(m.value) as { _raw: string; _error: string };
    assert.equal(record._raw, '');
    assert.ok(!record._error.includes('ABCDEF') && !record._error.includes('s3cr3t'), record._error);
  }
  // on_error: raw ships the failed line in the records' topic: redacted the same way.
  const raw = encode({ format: 'combined', on_error: 'raw', transforms: { privacy } }, lines.slice(0, 1)).byTopic.get('logs')!;
  assert.ok(!raw[0]!.value.includes('hunter2'));
  // A record too large for Kafka goes to the dead-letter topic as text: redacted.
  const huge = `${good.replace('lang=zh-CN', `token=${'T'.repeat(3000)}&pad=${'p'.repeat(3000)}`)}`;
  const tooLarge = encode({ format: 'combined', transforms: { privacy } }, [huge], { kafka: { max_message_bytes: 4000 } }).byTopic.get('dead')!;
  assert.ok(!tooLarge[0]!.value.includes('TTTT') && tooLarge[0]!.value.includes('token=REDACTED'), tooLarge[0]!.value.slice(0, 300));
});

test('privacy settings that cannot work are configuration errors naming the setting', () => {
  const problem = (format: FormatOf, transforms: unknown, env: NodeJS.ProcessEnv = {}): string => {
    try {
      compile(format, transforms, env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems.join('\n');
    }
    return assert.fail('no error');
  };
  assert.match(problem({ format: 'main' }, { privacy: { ip: { mode: 'hash' } } }), /^inputs\[0\]\.transforms\.privacy: a keyed hash \(ip\.mode: hash or headers\.hash\) needs secret_env or secret_file/);
  assert.match(problem({ format: 'main' }, { privacy: { secret_env: 'NOPE', ip: { mode: 'hash' } } }), /^inputs\[0\]\.transforms\.privacy\.secret_env: environment variable NOPE is not set or empty/);
  assert.match(problem({ format: 'main' }, { privacy: { secret_file: '/nonexistent/key', headers: { hash: ['http_cookie'] } } }), /^inputs\[0\]\.transforms\.privacy\.secret_file: cannot read \/nonexistent\/key: ENOENT/);
  assert.match(problem({ format: 'main' }, { privacy: { headers: { drop: ['http_cookie'] } } }), /^inputs\[0\]\.transforms\.privacy\.headers\.drop\[0\]: "http_cookie" is not a field of this format/);
  assert.match(problem({ format: 'main' }, { privacy: { ip: { fields: ['remote_addr', 'http_x_forwarded_fro'] } } }), /privacy\.ip\.fields\[1\]: "http_x_forwarded_fro" is not a field of this format \(did you mean "http_x_forwarded_for"\?\)/);
  assert.match(problem({ format: '$status "$request"' }, { privacy: { ip: {} } }), /^inputs\[0\]\.transforms\.privacy\.ip\.fields: none of remote_addr, http_x_forwarded_for, realip_remote_addr, http_x_real_ip is a field of this format: name the fields/);
  assert.match(problem({ format: 'main' }, { privacy: { ip: { ipv4_prefix: 33 } } }), /^inputs\[0\]\.transforms\.privacy\.ip\.ipv4_prefix: must be <= 32 \(got 33\)/);
  assert.equal(problem({ format: 'main' }, { privacy: { secret_env: 'K', secret_file: '/k', ip: { mode: 'hash' } } }, { K: 'k' }), 'inputs[0].transforms.privacy: give secret_env or secret_file, not both');
});

test('the keyed hash is HMAC-SHA256 for any key and text length; IPv6 truncation is ipaddr.js\'s for any address and prefix; addresses read as net.isIP reads them', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 600 }), (key, text) => {
      const want = createHmac('sha256', Buffer.from(key)).update(text).digest('hex').slice(0, 16);
      assert.equal(new KeyedHash(Buffer.from(key)).digest(text), want);
    }),
    { numRuns: 300 },
  );
  const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 }), fc.constantFrom('rfc5952', 'normalized', 'fixed', 'upper'), (groups, prefix, spelling) => {
      const address = ipaddr.fromByteArray(groups.flatMap((g) => [g >> 8, g & 255])) as ipaddr.IPv6;
      fc.pre(!address.isIPv4MappedAddress());
      const text = spelling === 'normalized' ? address.toNormalizedString() : spelling === 'fixed' ? groups.map((g) => g.toString(16).padStart(4, '0')).join(':') : spelling === 'upper' ? address.toRFC5952String().toUpperCase() : address.toRFC5952String();
      const bytes = address.toByteArray();
      for (let bit = prefix; bit < 128; bit++) bytes[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
      assert.equal(truncator(24, prefix)(text, 6), (ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toRFC5952String(), `${text}/${prefix}`);
    }),
    { numRuns: 2000 },
  );
  // What is read as one address, and of which family, is what net.isIP says.
  const family = new Anonymiser((_address, f) => `<${f}>`);
  const text = fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.stringMatching(/^[0-9.]{0,16}$/), fc.ipV6(), fc.stringMatching(/^[0-9a-fA-F:]{0,20}$/), fc.ipV6().map((a) => a.toUpperCase()));
  fc.assert(
    fc.property(text, (t) => {
      const got = family.text(t);
      const want = isIP(t);
      assert.equal(got === '<4>' ? 4 : got === '<6>' ? 6 : 0, want, t);
    }),
    { numRuns: 10000 },
  );
});

test('IPv4 truncation at every prefix is the address masked', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
      const n = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
      const masked = prefix === 0 ? 0 : Math.floor(n / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
      const want = [24, 16, 8, 0].map((shift) => Math.floor(masked / 2 ** shift) % 256).join('.');
      assert.equal(truncator(prefix, 48)(address, 4), want, `${address}/${prefix}`);
    }),
    { numRuns: 3000 },
  );
});
