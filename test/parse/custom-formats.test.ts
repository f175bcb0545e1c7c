/**
 * Teams' own formats against real nginx output (test/fixtures/nginx,
 * json_nginx.conf): JSON logs with their own keys, read by the log_format,
 * by a later or earlier version of it, and by key name alone (the json
 * presets); a tab-separated format given as a string with nginx's `\t`, in
 * YAML and on the command line. Line N of custom_truth.log (escape=json,
 * every value quoted, keys equal to the variable names) is the truth of
 * line N of every other log; it is typed with the parser's typing rules
 * (typed-value.ts, unit-tested on their own), "" being nginx's "not set".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { compileLogFormat, ParseError, REQUEST_PARTS, resolveFormat } from '../../src/parse/index.ts';
import type { FieldValue, LineParser, LogRecord } from '../../src/parse/index.ts';
import { jsonFormatMembers } from '../../src/parse/json-format.ts';
import { parseFormatTemplate } from '../../src/parse/format-template.ts';
import { typeDecoded } from '../../src/parse/typed-value.ts';
import { isNginxVariable, variableKind } from '../../src/parse/variables.ts';

const fixtures = new URL('../fixtures/nginx/', import.meta.url);
const conf = new URL('json_nginx.conf', fixtures).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** Lines of a fixture, read as the tailer does: UTF-8 with replacement. */
function readLines(file: string): string[] {
  const lines = new TextDecoder('utf-8').decode(readFileSync(new URL(file, fixtures))).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const truth = readLines('custom_truth.log').map((line) => JSON.parse(line) as Record<string, string>);

/** The truth of `variable` in line `n` (1-based), typed. */
function truthOf(n: number, variable: string, dashIsNull: boolean): FieldValue | undefined {
  const value = truth[n - 1]![variable];
  assert.ok(value !== undefined, `$${variable} is in the truth`);
  return value === '' ? null : typeDecoded(variableKind(variable), value, dashIsNull);
}

/** The request parts of line n where nginx itself parsed the request line; undefined elsewhere. */
function requestParts(n: number): Record<string, FieldValue> | undefined {
  const t = truth[n - 1]!;
  if (t.request_method === '') return undefined;
  const q = t.request_uri!.indexOf('?');
  return {
    request_method: t.request_method!,
    request_path: q < 0 ? t.request_uri! : t.request_uri!.slice(0, q),
    request_query: q < 0 ? null : t.request_uri!.slice(q + 1),
    request_protocol: t.server_protocol === '' ? null : t.server_protocol!,
  };
}

interface Key {
  rawKey: string;
  variable: string | undefined;
  quoted: boolean;
}

/** The keys a log's lines hold, in order, from the log_format that wrote them. */
function keysOf(formatName: string): Key[] {
  const { format } = resolveFormat({ nginxConf: conf, name: formatName });
  const members = jsonFormatMembers(format);
  assert.ok(members, `${formatName} is a flat JSON object`);
  return members.map((m) => ({ ...m, quoted: format.includes(`"${m.rawKey}":"`) }));
}

/**
 * What a line written by `writtenBy` must parse to when read with
 * `readWith` (a log_format name) or by key name alone (undefined): keys
 * the reading format maps are its variables; other keys named like a
 * variable are that variable; the rest are kept as written.
 */
function expectedRecord(n: number, writtenBy: string, readWith: string | undefined, escape: 'json' | 'default'): { record: LogRecord; keys: string[] } {
  const dashIsNull = escape === 'default';
  const mapping = new Map(readWith === undefined ? [] : keysOf(readWith).map((k) => [k.rawKey, k.variable]));
  const record: LogRecord = {};
  const keys: string[] = [];
  let time: string | undefined;
  for (const key of keysOf(writtenBy)) {
    const mapped = mapping.has(key.rawKey);
    const variable = mapped ? mapping.get(key.rawKey) : isNginxVariable(key.rawKey) ? key.rawKey : undefined;
    if (mapped && variable === undefined) continue; // a constant of the reading format
    if (variable !== undefined) {
      record[variable] = truthOf(n, key.variable!, dashIsNull)!;
      keys.push(variable);
      if (variable === 'time_iso8601') time = truth[n - 1]!.time_iso8601;
      if (variable === 'request') keys.push(...REQUEST_PARTS);
      continue;
    }
    // Kept as written: a string as nginx meant it, an unquoted value as JSON reads it.
    const text = key.variable === undefined ? 'fixture' : truth[n - 1]![key.variable]!;
    let value: FieldValue = text;
    if (!key.quoted) value = text === '' || text === '-' ? null : /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text;
    record[key.rawKey] = value;
    keys.push(key.rawKey);
  }
  if (time !== undefined) {
    record['@timestamp'] = new Date(time).toISOString();
    keys.unshift('@timestamp');
  }
  return { record, keys };
}

function parseAll(parser: LineParser, file: string): LogRecord[] {
  return readLines(file).map((line, i) => {
    const record = parser.parse(line);
    if (record instanceof ParseError) assert.fail(`${file}:${i + 1}: ${record.reason}\n${line}`);
    return record;
  });
}

/** Compares a record with the expectation: every key, in order; request parts against nginx's own parse where it made one. */
function checkRecord(where: string, n: number, record: LogRecord, expected: { record: LogRecord; keys: string[] }): void {
  assert.deepEqual(Object.keys(record), expected.keys, `${where}: keys in order`);
  const parts = requestParts(n);
  for (const key of expected.keys) {
    if ((REQUEST_PARTS as readonly string[]).includes(key)) {
      if (parts !== undefined) assert.deepEqual(record[key], parts[key], `${where}: ${key}`);
    } else {
      assert.deepEqual(record[key], expected.record[key], `${where}: ${key}`);
    }
  }
}

test('fixtures: the logs of json_nginx.conf have one line per request each', () => {
  for (const log of ['custom_json.log', 'custom_json_v2.log', 'custom_json_default.log', 'tsv.log']) {
    assert.equal(readLines(log).length, truth.length, log);
  }
  assert.equal(truth.length, 15);
});

const CASES = [
  { log: 'custom_json.log', writtenBy: 'custom_json', readWith: 'custom_json', escape: 'json' },
  { log: 'custom_json_default.log', writtenBy: 'custom_json_default', readWith: 'custom_json_default', escape: 'default' },
  { log: 'custom_json_v2.log', writtenBy: 'custom_json_v2', readWith: 'custom_json_v2', escape: 'json' },
  // A format changed in nginx.conf while older (or newer) lines are still in the files.
  { log: 'custom_json.log', writtenBy: 'custom_json', readWith: 'custom_json_v2', escape: 'json' },
  { log: 'custom_json_v2.log', writtenBy: 'custom_json_v2', readWith: 'custom_json', escape: 'json' },
] as const;

for (const { log, writtenBy, readWith, escape } of CASES) {
  test(`fixtures: ${log} read with log_format ${readWith} equals nginx's truth, key by key`, () => {
    const resolved = resolveFormat({ nginxConf: conf, name: readWith });
    assert.equal(resolved.escape, escape);
    const records = parseAll(compileLogFormat(resolved), log);
    records.forEach((record, i) => checkRecord(`${log}:${i + 1}`, i + 1, record, expectedRecord(i + 1, writtenBy, readWith, escape)));
  });
}

test('fixtures: custom_json.log has the lines that are not JSON: "ust":, "ust":- and "ust":502, 200', () => {
  const lines = readLines('custom_json.log');
  const parser = compileLogFormat(resolveFormat({ nginxConf: conf, name: 'custom_json' }));
  const us = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    assert.ok(i >= 0, `a line with ${needle}`);
    return (parser.parse(lines[i]!) as LogRecord).upstream_status;
  };
  assert.equal(us('"ust":,'), null);
  assert.equal(us('"ust":-,'), null);
  assert.deepEqual(us('"ust":502, 200,'), [502, 200]);
  const invalid = lines.filter((l) => {
    try {
      JSON.parse(l);
      return false;
    } catch {
      return true;
    }
  });
  assert.ok(invalid.length >= lines.length / 2, `${invalid.length} of ${lines.length} lines are not JSON (all parsed above)`);
});

test('fixtures: format json (no log_format) reads a team\'s keys as they are; JSON.parse agrees where it can read the line', () => {
  const parser = compileLogFormat(resolveFormat({ format: 'json' }));
  const records = parseAll(parser, 'custom_json.log');
  const lines = readLines('custom_json.log');
  let agreed = 0;
  records.forEach((record, i) => {
    checkRecord(`custom_json.log:${i + 1} as json`, i + 1, record, expectedRecord(i + 1, 'custom_json', undefined, 'json'));
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(lines[i]!) as Record<string, unknown>;
    } catch {
      return;
    }
    // "host" is named like its variable: typed ("" is null); every other key is JSON.parse's value.
    for (const key of Object.keys(parsed)) if (key !== 'host') assert.deepEqual(record[key], parsed[key], `line ${i + 1}: ${key}`);
    agreed++;
  });
  assert.ok(agreed >= 3, `${agreed} lines compared with JSON.parse`);
});

test('fixtures: format json_default reads custom_json_default.log: \\xHH decoded, "-" unquoted is null', () => {
  const records = parseAll(compileLogFormat(resolveFormat({ format: 'json_default' })), 'custom_json_default.log');
  const ua = records.find((r) => typeof r.ua === 'string' && r.ua.startsWith('ctl'))!;
  assert.equal(ua.ua, truth.find((t) => t.http_user_agent!.startsWith('ctl'))!.http_user_agent);
  assert.ok(String(ua.ua).includes('\u0001\u001f\u007f tab\there "quoted" back\\slash \uFFFD\uFFFD é 中 😀'));
  assert.deepEqual(records.map((r) => r.ust), truth.map((t) => (t.upstream_status === '' || t.upstream_status === '-' ? null : t.upstream_status!.includes(',') ? t.upstream_status : Number(t.upstream_status))));
});

const TSV = '$msec\\t$remote_addr\\t$remote_user\\t$request\\t$status\\t$body_bytes_sent\\t$request_time\\t$http_referer\\t$http_user_agent\\t$upstream_addr\\t$upstream_status';

function checkTsv(where: string, records: readonly unknown[]): void {
  const variables = parseFormatTemplate(resolveFormat({ nginxConf: conf, name: 'tsv' }).format).variables;
  assert.equal(variables.length, 11);
  assert.equal(records.length, truth.length);
  records.forEach((r, i) => {
    const record = r as LogRecord;
    assert.ok(!('_error' in record), `${where}:${i + 1}: ${String(record._error)}`);
    for (const v of variables) assert.deepEqual(record[v], truthOf(i + 1, v, true), `${where}:${i + 1}: $${v}`);
    assert.equal(record['@timestamp'], new Date(Math.round(Number(truth[i]!.msec) * 1000)).toISOString());
  });
}

test('format string with \\t in YAML means a tab, as in nginx.conf: tsv.log parses to the truth', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'logship-tsv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'logship.yaml');
  // Single-quoted YAML keeps the backslash: the string is what nginx.conf holds.
  writeFileSync(file, `inputs:\n  - paths: [/var/log/nginx/access.log]\n    format: '${TSV}'\nkafka:\n  brokers: [127.0.0.1:9092]\n  topic: nginx\n`);
  const config = loadConfig(file);
  assert.equal(config.inputs[0]!.format, TSV);
  const fromYaml = compileLogFormat(resolveFormat({ format: config.inputs[0]!.format }));
  checkTsv('tsv.log (YAML)', parseAll(fromYaml, 'tsv.log'));
  // The same format read from nginx.conf gives the same records.
  const fromConf = compileLogFormat(resolveFormat({ nginxConf: conf, name: 'tsv' }));
  assert.deepEqual(parseAll(fromConf, 'tsv.log'), parseAll(fromYaml, 'tsv.log'));
});

test('format string with \\t on the command line: logship parse --format reads tsv.log', () => {
  const run = spawnSync(process.execPath, [MAIN, 'parse', '--format', TSV], { input: readFileSync(new URL('tsv.log', fixtures)), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  checkTsv('tsv.log (--format)', run.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as unknown));
});
