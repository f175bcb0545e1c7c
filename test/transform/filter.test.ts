/**
 * transforms.filter on the real nginx fixtures: each expression keeps
 * exactly the records that the same condition written in JavaScript keeps;
 * a misspelt field, an unsafe regex or bad syntax is a configuration error
 * naming the setting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import type { LogRecord } from '../../src/parse/index.ts';
import { compile, fixtureLines, JSON_CONF, parsed, run, type FormatOf } from './fixture-records.ts';

const COMBINED: FormatOf = { format: 'combined' };
const combinedLines = fixtureLines('combined.log');

/** Indices of the records a drop_when expression keeps, and of those `dropped` says should go. */
function check(format: FormatOf, lines: string[], expression: string, dropped: (r: LogRecord) => boolean): number {
  const compiled = compile(format, { filter: { drop_when: expression } });
  const records = parsed(compiled.parser, lines);
  const out = run(compiled, lines);
  const want = records.map((r) => (dropped(r) ? 'records_filtered' : 'kept'));
  const got = out.map((r) => (r === 'records_filtered' ? r : 'kept'));
  assert.deepEqual(got, want, expression);
  return got.filter((r) => r !== 'kept').length;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

test('each operator on combined.log drops exactly what the same condition in JavaScript drops', () => {
  const cases: [string, (r: LogRecord) => boolean][] = [
    ['request_path == "/static/app.js"', (r) => r.request_path === '/static/app.js'],
    ['status < 400 and request_path == "/static/app.js"', (r) => (r.status as number) < 400 && r.request_path === '/static/app.js'],
    ['status >= 400', (r) => (r.status as number) >= 400],
    ['status <= 301 and status > 200', (r) => (r.status as number) <= 301 && (r.status as number) > 200],
    ['status != 200', (r) => r.status !== 200],
    ['status in [404, 499, 505]', (r) => [404, 499, 505].includes(r.status as number)],
    ['request_method in ["POST", "HEAD"]', (r) => ['POST', 'HEAD'].includes(r.request_method as string)],
    ['http_user_agent ~ "^Mozilla/5\\\\.0 \\\\(iPhone"', (r) => /^Mozilla\/5\.0 \(iPhone/.test(str(r.http_user_agent) ?? '')],
    ['http_user_agent ~* "CURL|go-http"', (r) => /curl|go-http/i.test(str(r.http_user_agent) ?? '')],
    ['status ~ "^4"', (r) => String(r.status).startsWith('4')],
    ['http_user_agent == null', (r) => r.http_user_agent === null],
    ['http_referer', (r) => Boolean(r.http_referer)],
    ['not (remote_addr == "::1") and request_method != "GET"', (r) => r.remote_addr !== '::1' && r.request_method !== 'GET'],
    ['!(status == 200) || remote_addr == "::1"', (r) => r.status !== 200 || r.remote_addr === '::1'],
    ['request_query ~ "lang=zh" or (status == 200 and body_bytes_sent > 6000)', (r) => /lang=zh/.test(str(r.request_query) ?? '') || (r.status === 200 && (r.body_bytes_sent as number) > 6000)],
    ['status == "200"', () => false],
    ['body_bytes_sent > -1 and status in [-1, 200]', (r) => r.status === 200],
  ];
  for (const [expression, dropped] of cases) {
    const n = check(COMBINED, combinedLines, expression, dropped);
    console.log(`  ${expression}: ${n} of ${combinedLines.length} dropped`);
  }
  // The cases are not vacuous: most drop some records and keep others.
  assert.ok(check(COMBINED, combinedLines, 'status >= 400', (r) => (r.status as number) >= 400) > 0);
});

test('keep_when keeps exactly what drop_when of the same expression drops', () => {
  const expression = 'http_user_agent ~* "mozilla" and status == 200';
  const drop = run(compile(COMBINED, { filter: { drop_when: expression } }), combinedLines);
  const keep = run(compile(COMBINED, { filter: { keep_when: expression } }), combinedLines);
  assert.ok(drop.some((r) => r === 'records_filtered') && drop.some((r) => r !== 'records_filtered'));
  drop.forEach((r, i) => assert.equal(keep[i] === 'records_filtered', r !== 'records_filtered', `line ${i + 1}`));
});

test('a list field (upstream_status) matches when one of its elements does', () => {
  const lines = fixtureLines('upstreaminfo.log');
  const format: FormatOf = { format: 'upstreaminfo' };
  const anyOf = (v: unknown, f: (x: unknown) => boolean) => (Array.isArray(v) ? v.some(f) : f(v));
  const n = check(format, lines, 'upstream_status >= 500', (r) => anyOf(r.upstream_status, (x) => typeof x === 'number' && x >= 500));
  assert.ok(n > 0, 'upstreaminfo.log has a 502 retry');
  check(format, lines, 'upstream_status == 200 and upstream_status == 502', (r) => anyOf(r.upstream_status, (x) => x === 200) && anyOf(r.upstream_status, (x) => x === 502));
  check(format, lines, 'upstream_addr ~ ":18081$"', (r) => anyOf(r.upstream_addr, (x) => typeof x === 'string' && x.endsWith(':18081')));
});

test('JSON logs with their own keys: by the log_format, and by key name alone; both escapings, with invalid UTF-8, filter alike', () => {
  const json = fixtureLines('custom_json.log');
  const byDefault = fixtureLines('custom_json_default.log');
  // Read by the log_format: keys are the nginx variables.
  const byConf = (name: string): FormatOf => ({ nginx_conf: JSON_CONF, format_name: name });
  const expression = 'status >= 400 or http_user_agent ~ "\uFFFD" or request_method == "HEAD"';
  const dropped = (r: LogRecord) => (r.status as number) >= 400 || (str(r.http_user_agent) ?? '').includes('\uFFFD') || r.request_method === 'HEAD';
  const a = check(byConf('custom_json'), json, expression, dropped);
  const b = check(byConf('custom_json_default'), byDefault, expression, dropped);
  console.log(`  custom_json: ${a} of ${json.length} dropped; custom_json_default: ${b}`);
  assert.ok(a > 0);
  const keptJson = run(compile(byConf('custom_json'), { filter: { drop_when: expression } }), json).map((r) => r === 'records_filtered');
  const keptDefault = run(compile(byConf('custom_json_default'), { filter: { drop_when: expression } }), byDefault).map((r) => r === 'records_filtered');
  assert.deepEqual(keptDefault, keptJson, 'the same requests, whatever the escaping');
  // format: json reads the team's own keys as they are: any key may be named.
  const n = check({ format: 'json' }, json, 'st >= 400 or ua ~ "curl"', (r) => (r.st as number) >= 400 || /curl/.test(str(r.ua) ?? ''));
  assert.ok(n > 0);
});

function configError(format: FormatOf, transforms: unknown): string {
  try {
    compile(format, transforms);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    return err.problems.join('\n');
  }
  return assert.fail('no configuration error');
}

test('a bad filter is a configuration error naming the setting, never an error per line', () => {
  const cases: [unknown, RegExp][] = [
    [{ filter: { drop_when: 'stauts >= 500' } }, /^inputs\[0\]\.transforms\.filter\.drop_when: "stauts" is not a field of this format \(did you mean "status"\?\); fields: @timestamp, remote_addr/],
    [{ filter: { keep_when: 'request_time < 0.01' } }, /^inputs\[0\]\.transforms\.filter\.keep_when: "request_time" is not a field of this format; fields: /],
    [{ filter: { drop_when: 'http_user_agent ~ "(a+)+$"' } }, /^inputs\[0\]\.transforms\.filter\.drop_when: the regular expression \/\(a\+\)\+\$\/ can take exponential time/],
    [{ filter: { drop_when: 'http_user_agent ~ "(unclosed"' } }, /^inputs\[0\]\.transforms\.filter\.drop_when: not a regular expression \(.*\) in "http_user_agent ~ \\"\(unclosed\\""/],
    [{ filter: { drop_when: 'status >= ' } }, /^inputs\[0\]\.transforms\.filter\.drop_when: Expected expression after >= at character 10 in "status >= "/],
    [{ filter: { drop_when: 'status + 1 > 500' } }, /operator "\+" \(not supported\) is not a field or a literal/],
    [{ filter: { drop_when: 'status > -1 and request_path.length > 1' } }, /a field path \(a\.b\)/],
    [{ filter: { drop_when: 'status in 404' } }, /the right of in must be a list/],
    [{ filter: { drop_when: 'http_user_agent ~ request_path' } }, /the right of ~ must be a quoted regular expression/],
    [{ filter: { drop_when: 'request.path == "/"' } }, /a field path \(a\.b\) is not a field or a literal/],
    [{ sample: { rate: 10, key: 'remote_adr' } }, /^inputs\[0\]\.transforms\.sample\.key: "remote_adr" is not a field of this format \(did you mean "remote_addr"\?\)/],
    [{ sample: { rate: 10, always_keep: 'upstream_status >= 500' } }, /^inputs\[0\]\.transforms\.sample\.always_keep: "upstream_status" is not a field/],
  ];
  for (const [transforms, expected] of cases) {
    const message = configError(COMBINED, transforms);
    assert.match(message, expected);
    console.log(`  ${message.split('; fields:')[0]}`);
  }
  // Both, or neither.
  for (const filter of [{ drop_when: 'status == 1', keep_when: 'status == 2' }, {}]) {
    assert.equal(configError(COMBINED, { filter }), 'inputs[0].transforms.filter: give drop_when (records to drop) or keep_when (records to keep), one of the two');
  }
});
