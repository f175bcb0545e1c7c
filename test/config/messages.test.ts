/** Configuration errors name the setting (and its line in the file), say what is allowed, and guess what was meant. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildConfig, ConfigError, loadConfig } from '../../src/config/load.ts';
import { tempDir } from '../support/agent.ts';

const minimal = { inputs: [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }], kafka: { brokers: ['k:9092'], topic: 'nginx' } };

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    process.stdout.write(`# ${err.message.replace(/\n/g, '\n# ')}\n`);
    return err.problems.join('\n');
  }
  assert.fail('no ConfigError');
}

test('host:port settings say host:port, not a regular expression, and check the port range', () => {
  const text = problems(() => buildConfig({ ...minimal, kafka: { brokers: ['nope', 'k:99999', 'k:0'], topic: 't' }, metrics: { listen: 'localhost:99999' } }));
  assert.doesNotMatch(text, /pattern/);
  assert.match(text, /kafka\.brokers\[0\]: must be host:port \(a port 1-65535\), e\.g\. kafka-1:9092 \(got "nope"\)/);
  assert.match(text, /kafka\.brokers\[1\]: must be host:port .*\(got "k:99999"\)/);
  assert.match(text, /kafka\.brokers\[2\]: must be host:port .*\(got "k:0"\)/);
  assert.match(text, /metrics\.listen: must be host:port \(a port 0-65535.*\(got "localhost:99999"\)/);
  assert.equal(buildConfig({ ...minimal, metrics: { listen: '[::1]:0' } }).metrics.listen, '[::1]:0');
  assert.deepEqual(buildConfig({ ...minimal, kafka: { brokers: ['k:1', 'k:65535'], topic: 't' } }).kafka.brokers, ['k:1', 'k:65535']);
});

test('a literal topic Kafka would refuse is an illegal topic name, a template is checked as records come', () => {
  for (const topic of ['bad topic', 'bad!', '.', '..', 'x'.repeat(250)]) {
    const text = problems(() => buildConfig({ ...minimal, kafka: { brokers: ['k:9092'], topic } }));
    assert.match(text, /kafka\.topic: illegal Kafka topic name: .*a-z A-Z 0-9 \. _ -.*249.*"\." or "\.\."/);
  }
  assert.match(problems(() => buildConfig({ ...minimal, kafka: { brokers: ['k:9092'], topic: 't', dead_letter_topic: 'dead letters' } })), /kafka\.dead_letter_topic: illegal Kafka topic name/);
  assert.match(problems(() => buildConfig({ ...minimal, inputs: [{ paths: ['/x'], format: 'combined', topic: 'a/b' }] })), /inputs\[0\]\.topic: illegal Kafka topic name/);
  assert.match(problems(() => buildConfig(minimal, { topic: 'no good' })), /kafka\.topic: illegal Kafka topic name/);
  for (const topic of ['nginx-access', 'a.b_c-D9', 'x'.repeat(249), 'nginx-{{ status }}', '{{ source.namespace }}']) {
    assert.equal(buildConfig({ ...minimal, kafka: { brokers: ['k:9092'], topic } }).kafka.topic, topic);
  }
});

test('an unknown setting or value: did you mean the one that is close', () => {
  const text = problems(() => buildConfig({ ...minimal, metrics: { lisen: '127.0.0.1:9598' }, batch: { max_record: 10 }, kafka: { ...minimal.kafka, compresion: 'zstd', acks: 'al' }, inputs: [{ paths: ['/x'], format: 'combined', start_at: 'begining' }], wholly_unrelated: 1 }));
  assert.match(text, /metrics: unknown setting "lisen" \(did you mean "listen"\?\)/);
  assert.match(text, /batch: unknown setting "max_record" \(did you mean "max_records"\?\)/);
  assert.match(text, /kafka: unknown setting "compresion" \(did you mean "compression"\?\)/);
  assert.match(text, /kafka\.acks: must be one of "all", 1, 0 \(got "al"; did you mean "all"\?\)/);
  assert.match(text, /inputs\[0\]\.start_at: must be one of "beginning", "end" \(got "begining"; did you mean "beginning"\?\)/);
  assert.match(text, /\(top level\): unknown setting "wholly_unrelated"$/m, 'no guess when nothing is close');
});

test('flags only: a missing setting is named by its flag', () => {
  assert.match(problems(() => buildConfig({}, { paths: ['/a.log'], format: 'combined', topic: 't' })), /give --brokers \(host:port of Kafka bootstrap brokers\)/);
  assert.match(problems(() => buildConfig({}, { paths: ['/a.log'], format: 'combined', brokers: ['k:1'] })), /give --topic/);
  const none = problems(() => buildConfig({}, {}));
  assert.match(none, /give --path/);
  assert.match(none, /give --brokers/);
  assert.doesNotMatch(none, /missing required setting "kafka"/);
  assert.match(problems(() => buildConfig({}, { paths: ['/a.log'], brokers: ['k:1'], topic: 't' })), /give --format/);
});

test('errors in a file carry its line: YAML syntax and every setting', (t) => {
  const dir = tempDir(t);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'inputs:\n  - paths: [/x]\n    format: combined\nkafka: {brokers: [k:1]\n');
  assert.match(problems(() => loadConfig(broken, {}, {})), /\/broken\.yaml:\d+:\d+: YAML: /);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, ['inputs:', '  - paths: [/x]', '    format: combined', '    start_at: middle', 'kafka:', '  brokers: [k:9092]', '  topic: t', '  acks: most', 'metrics:', '  lisen: x', 'spool:', '  max_bytes: 12 parsecs', ''].join('\n'));
  const text = problems(() => loadConfig(bad, {}, {}));
  assert.match(text, /^\S*\/bad\.yaml:4: inputs\[0\]\.start_at: must be one of/m);
  assert.match(text, /^\S*\/bad\.yaml:8: kafka\.acks: must be one of/m);
  assert.match(text, /^\S*\/bad\.yaml:10: metrics: unknown setting "lisen"/m);
  assert.match(text, /^\S*\/bad\.yaml:12: spool\.max_bytes: must be a size/m);
  assert.deepEqual(text.split('\n').map((l) => Number(/\.yaml:(\d+):/.exec(l)?.[1])), [4, 8, 10, 12], 'in the order of the file');
  // A value given on the command line has no line in the file.
  assert.match(problems(() => loadConfig(bad, { brokers: ['nope'] }, {})), /^kafka\.brokers\[0\]: must be host:port/m);
});
