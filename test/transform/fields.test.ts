/**
 * transforms.fields and enrich, and what the encoder makes of the
 * transformed record: topic and key templates on transformed fields,
 * where `source` goes, filtered lines skipped with their offsets (the
 * checkpoint advances), and nothing changed when nothing is configured.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Bowser from 'bowser';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import type { LogRecord } from '../../src/parse/index.ts';
import { inputRouting } from '../../src/pipeline.ts';
import { tempDir } from '../support/agent.ts';
import { encode } from './encoder-harness.ts';
import { compile, fixtureLines, parsed, run } from './fixture-records.ts';

const lines = fixtureLines('combined.log');
const values = (messages: { value: string }[]) => messages.map((m) => JSON.parse(m.value) as LogRecord & { source?: Record<string, string> });

test('keep, drop, rename and add: the record shipped, in its order, source appended as before', () => {
  const keep = values(encode({ format: 'combined', transforms: { fields: { keep: ['status', 'request_path', 'remote_addr'], rename: { remote_addr: 'client' }, add: { dc: 'eu-west-1', shard: 3, canary: false } } } }, lines).byTopic.get('logs')!);
  assert.equal(keep.length, lines.length);
  assert.deepEqual(Object.keys(keep[0]!), ['client', 'request_path', 'status', 'dc', 'shard', 'canary', 'source']);
  assert.deepEqual({ ...keep[1]!, source: undefined }, { client: '127.0.0.1', request_path: '/api/items/73249', status: 200, dc: 'eu-west-1', shard: 3, canary: false, source: undefined });
  const drop = values(encode({ format: 'combined', transforms: { fields: { drop: ['time_local', 'request', 'request_protocol'] } } }, lines).byTopic.get('logs')!);
  const before = parsed(compile({ format: 'combined' }, { fields: { drop: ['time_local'] } }).parser, lines);
  drop.forEach((r, i) => {
    const { time_local: _t, request: _r, request_protocol: _p, ...rest } = before[i]!;
    assert.deepEqual({ ...r, source: undefined }, { ...rest, source: undefined }, `line ${i + 1}`);
  });
});

test('static fields take ${ENV} from the environment when the configuration is loaded', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'logship.yaml');
  writeFileSync(file, ['inputs:', '  - paths: [/var/log/nginx/access.log]', '    format: combined', '    transforms:', "      fields: { add: { datacenter: '${DC}', cluster: '${CLUSTER:-main}' } }", 'kafka: { brokers: [127.0.0.1:9092], topic: logs }', ''].join('\n'));
  const config = loadConfig(file, {}, { DC: 'fra1' });
  const { parser, routing } = inputRouting(config.inputs[0]!, 0, config, {});
  const record = routing.transforms!.apply(parser.parse(lines[0]!) as LogRecord) as LogRecord;
  assert.equal(record.datacenter, 'fra1');
  assert.equal(record.cluster, 'main');
});

test('topic and key templates name the transformed record: renamed, added and enriched fields; not dropped ones', () => {
  const { byTopic } = encode(
    { format: 'combined', topic: 'web-{{ dc }}-{{ ua_device }}', transforms: { privacy: { ip: {} }, enrich: { user_agent: true }, fields: { rename: { remote_addr: 'client' }, add: { dc: 'fra1' } } } },
    lines,
    { kafka: { key: '{{ client }}' } },
  );
  assert.deepEqual([...byTopic.keys()].sort(), ['web-fra1-', 'web-fra1-desktop', 'web-fra1-mobile'].sort());
  const keys = new Set([...byTopic.values()].flat().map((m) => m.key));
  assert.deepEqual([...keys].sort(), ['127.0.0.0', '::']);

  const problem = (input: Record<string, unknown>, kafka: Record<string, unknown> = {}): string => {
    try {
      encode(input, [], { kafka });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems.join('\n');
    }
    return assert.fail('no error');
  };
  assert.match(problem({ format: 'combined', topic: 'web-{{ remote_addr }}', transforms: { fields: { rename: { remote_addr: 'client' } } } }), /^inputs\[0\] \(web\)\.topic: "\{\{ remote_addr \}\}" in "web-\{\{ remote_addr \}\}" is not a field of the log format; known: .*client/);
  assert.match(problem({ format: 'combined', transforms: { privacy: { headers: { drop: ['http_user_agent'] } } } }, { key: '{{ http_user_agent }}' }), /^kafka\.key: "\{\{ http_user_agent \}\}"/);
  assert.match(problem({ format: 'json', transforms: { fields: { keep: ['st', 'ip'] } } }, { key: '{{ ua }}' }), /^kafka\.key: "\{\{ ua \}\}" .*known: st, ip/, 'keep closes an open (JSON) record');
});

test('source: headers carries it in Kafka headers only; body in the record only; both (default) is byte for byte what no transforms gives', () => {
  const plain = encode({ format: 'combined' }, lines).byTopic.get('logs')!;
  const both = encode({ format: 'combined', transforms: { fields: { source: 'both' } } }, lines).byTopic.get('logs')!;
  const empty = encode({ format: 'combined', transforms: {} }, lines).byTopic.get('logs')!;
  assert.deepEqual(both, plain);
  assert.deepEqual(empty, plain);
  assert.deepEqual(Object.keys(plain[0]!.headers), ['logship-id', 'logship-host', 'logship-path']);

  const headers = encode({ format: 'combined', transforms: { fields: { source: 'headers' } } }, lines).byTopic.get('logs')!;
  headers.forEach((m, i) => {
    const { source, ...rest } = JSON.parse(plain[i]!.value) as Record<string, unknown>;
    assert.ok(source);
    assert.equal(m.value, JSON.stringify(rest));
    assert.deepEqual(m.headers, { 'logship-id': plain[i]!.headers['logship-id'], 'logship-host': 'web-1', 'logship-path': '/var/log/nginx/access.log', 'logship-input': 'web' });
  });
  const body = encode({ format: 'combined', transforms: { fields: { source: 'body' } } }, lines).byTopic.get('logs')!;
  body.forEach((m, i) => {
    assert.equal(m.value, plain[i]!.value);
    assert.deepEqual(m.headers, { 'logship-id': plain[i]!.headers['logship-id'] });
  });
  assert.throws(() => encode({ format: 'combined', transforms: { fields: { source: 'headers' } } }, [], { kafka: { message_format: 'ndjson' } }), /inputs\[0\]\.transforms\.fields\.source: headers needs kafka\.message_format: record/);
});

test('filtered and sampled-out lines are skipped with their offsets (the checkpoint advances) and counted', () => {
  const { byTopic, skipped, stats } = encode({ format: 'combined', transforms: { filter: { drop_when: 'status >= 400' }, sample: { rate: 4 } } }, lines);
  const shipped = byTopic.get('logs')!.length;
  const records = parsed(compile({ format: 'combined' }, { sample: { rate: 2 } }).parser, lines);
  const filtered = records.filter((r) => (r.status as number) >= 400).length;
  assert.equal(stats.counters.records_filtered, filtered);
  assert.equal(stats.counters.records_sampled_out, lines.length - filtered - shipped);
  assert.equal(shipped, Math.floor((lines.length - filtered) / 4));
  // Each skipped line's next offset, in order.
  const ends: number[] = [];
  let at = 0;
  for (const line of lines) ends.push((at += Buffer.byteLength(line) + 1));
  const shippedIds = new Set(byTopic.get('logs')!.map((m) => Number(m.headers['logship-id']!.split(':').at(-1))));
  const starts = [0, ...ends.slice(0, -1)];
  assert.deepEqual(skipped, ends.filter((_, i) => !shippedIds.has(starts[i]!)));
  console.log(`  ${lines.length} lines: ${filtered} filtered, ${stats.counters.records_sampled_out} sampled out, ${shipped} shipped; ${skipped.length} offsets skipped`);
});

test('enrich.user_agent: browser, OS and device as bowser reads them, on combined and on a JSON log with its own key', () => {
  const compiled = compile({ format: 'combined' }, { enrich: { user_agent: true } });
  const before = parsed(compiled.parser, lines);
  const after = run(compiled, lines) as LogRecord[];
  after.forEach((r, i) => {
    const ua = before[i]!.http_user_agent;
    const p = typeof ua === 'string' && ua !== '' ? Bowser.parse(ua) : undefined;
    assert.deepEqual([r.ua_browser, r.ua_browser_version, r.ua_os, r.ua_os_version, r.ua_device], [p?.browser.name || null, p?.browser.version || null, p?.os.name || null, p?.os.version || null, p?.platform.type || null], `line ${i + 1}`);
  });
  assert.ok(after.some((r) => r.ua_browser === 'Safari' && r.ua_os === 'iOS' && r.ua_device === 'mobile'));
  const own = run(compile({ format: 'json' }, { enrich: { user_agent: true, user_agent_field: 'ua' } }), fixtureLines('custom_json.log')) as LogRecord[];
  assert.equal(own[0]!.ua_browser, 'Firefox');
  assert.equal(own[0]!.ua_os, 'Linux');
  assert.throws(() => compile({ format: 'combined' }, { privacy: { headers: { drop: ['http_user_agent'] } }, enrich: { user_agent: true } }), /inputs\[0\]\.transforms\.enrich\.user_agent_field: "http_user_agent" is not a field of this format/);
});

test('fields settings that cannot work are configuration errors naming the setting', () => {
  const problem = (transforms: unknown): string => {
    try {
      compile({ format: 'combined' }, transforms);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems.join('\n');
    }
    return assert.fail('no error');
  };
  assert.match(problem({ fields: { keep: ['status', 'remote_adr'] } }), /^inputs\[0\]\.transforms\.fields\.keep\[1\]: "remote_adr" is not a field of this format \(did you mean "remote_addr"\?\)/);
  assert.match(problem({ fields: { rename: { status: 'request' } } }), /^inputs\[0\]\.transforms\.fields\.rename\.status: "request" is already a field of the record/);
  assert.match(problem({ fields: { drop: ['status'], rename: { status: 'code' } } }), /^inputs\[0\]\.transforms\.fields\.rename\.status: "status" is not a field/);
  assert.match(problem({ fields: { add: { status: 1 } } }), /^inputs\[0\]\.transforms\.fields\.add\.status: "status" is already a field of the record/);
  assert.match(problem({ fields: { keep: ['status'], drop: ['request'] } }), /^inputs\[0\]\.transforms\.fields: give keep \(the fields shipped\) or drop \(the fields left out\), not both$/);
  assert.match(problem({ fields: { source: 'nowhere' } }), /inputs\[0\]\.transforms\.fields\.source/);
  assert.match(problem({ filtre: { drop_when: 'status == 1' } }), /inputs\[0\]\.transforms.*filtre/);
});
