/**
 * Real nginx 1.22 logs against nginx's own truth: line N of json_truth.log
 * (escape=json, every variable the other formats use) is the true value of
 * every variable in line N of each text log. Every line, every field.
 *
 * The truth holds all values as JSON strings and writes "not set" as "", so
 * it is typed with the parser's own typing rules (typed-value.ts, unit-tested
 * on its own) before comparing, "" being nginx's "not set" (null).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compileLogFormat, ParseError, resolveFormat } from '../../src/parse/index.ts';
import type { FieldValue, LogRecord } from '../../src/parse/index.ts';
import { parseFormatTemplate } from '../../src/parse/format-template.ts';
import { typeDecoded } from '../../src/parse/typed-value.ts';
import { variableKind } from '../../src/parse/variables.ts';

const fixtures = new URL('../fixtures/nginx/', import.meta.url);
const conf = new URL('log_formats.conf', fixtures).pathname;

/** Lines of a fixture, read as the tailer will: bytes decoded as UTF-8 with replacement. */
function readLines(file: string): string[] {
  const text = new TextDecoder('utf-8').decode(readFileSync(new URL(file, fixtures)));
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const truth: Record<string, string>[] = readLines('json_truth.log').map((line) => JSON.parse(line) as Record<string, string>);

function expected(name: string, value: string | undefined, dashIsNull: boolean): FieldValue | undefined {
  if (value === undefined) return undefined;
  return value === '' ? null : typeDecoded(variableKind(name), value, dashIsNull);
}

/** Checks one parsed line; returns how many variables were compared. */
function checkLine(file: string, n: number, record: LogRecord | ParseError, variables: ReadonlySet<string>, dashIsNull: boolean): number {
  const where = `${file}:${n}`;
  assert.ok(!(record instanceof ParseError), `${where}: ${record instanceof ParseError ? record.reason : ''}`);
  const t = truth[n - 1]!;
  let compared = 0;
  for (const name of variables) {
    assert.ok(name in t, `${where}: $${name} is not in the truth`);
    assert.deepEqual(record[name], expected(name, t[name], dashIsNull), `${where}: $${name}`);
    compared++;
  }
  // @timestamp: the truth's own clock, in UTC with milliseconds.
  const ts = record['@timestamp'];
  if ('msec' in record) assert.equal(ts, new Date(Math.round(Number(t.msec) * 1000)).toISOString(), `${where}: @timestamp`);
  else assert.equal(ts, new Date(t.time_iso8601!).toISOString(), `${where}: @timestamp`);
  // The request parts split from $request agree with nginx's own parse of it
  // wherever nginx accepted the request line.
  if ('request_path' in record && t.request_method !== '') {
    assert.equal(record.request_method, t.request_method, `${where}: request_method`);
    const query = record.request_query;
    assert.equal(`${record.request_path}${query === null ? '' : `?${query}`}`, t.request_uri, `${where}: request_path/query`);
    assert.equal(record.request_protocol, t.server_protocol === '' ? null : t.server_protocol, `${where}: request_protocol`);
  }
  return compared;
}

function variablesOf(format: string): Set<string> {
  return new Set(parseFormatTemplate(format).variables);
}

for (const name of ['combined', 'main', 'upstreaminfo', 'gateway_kv']) {
  test(`fixtures: every line of ${name}.log equals nginx's truth, field by field`, () => {
    const resolved = resolveFormat({ nginxConf: conf, name });
    const parser = compileLogFormat(resolved);
    const variables = variablesOf(resolved.format);
    const lines = readLines(`${name}.log`);
    assert.equal(lines.length, truth.length, `${name}.log and json_truth.log have the same lines`);
    let compared = 0;
    lines.forEach((line, i) => (compared += checkLine(`${name}.log`, i + 1, parser.parse(line), variables, true)));
    assert.equal(compared, lines.length * variables.size);
  });
}

test('fixtures: json_truth.log (escape=json, raw invalid UTF-8) parses to its own JSON.parse', () => {
  const resolved = resolveFormat({ nginxConf: conf, name: 'json_truth' });
  assert.equal(resolved.escape, 'json');
  const parser = compileLogFormat(resolved);
  const variables = variablesOf(resolved.format);
  const lines = readLines('json_truth.log');
  let compared = 0;
  lines.forEach((line, i) => (compared += checkLine('json_truth.log', i + 1, parser.parse(line), variables, false)));
  assert.equal(variables.size, Object.keys(truth[0]!).length, "the format logs every key of the truth");
  assert.equal(compared, lines.length * variables.size);
});

test('fixtures: the presets match the fixtures written with the same directive', () => {
  for (const name of ['combined', 'main', 'upstreaminfo']) {
    const fromPreset = compileLogFormat(resolveFormat({ format: name }));
    const fromConf = compileLogFormat(resolveFormat({ nginxConf: conf, name }));
    for (const line of readLines(`${name}.log`)) assert.deepEqual(fromPreset.parse(line), fromConf.parse(line));
  }
});
