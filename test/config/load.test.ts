import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, buildConfig, loadConfig } from '../../src/config/load.ts';
import { interpolateEnv } from '../../src/config/interpolate.ts';
import { tempDir } from '../support/agent.ts';

const minimal = { inputs: [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }], kafka: { brokers: ['k:9092'], topic: 'nginx' } };

test('defaults are filled in', () => {
  const config = buildConfig(minimal);
  assert.equal(config.kafka.acks, 'all');
  assert.equal(config.batch.max_records, 1000);
  assert.equal(config.inputs[0]!.start_at, 'beginning');
  assert.equal(config.inputs[0]!.on_error, 'dead_letter');
  assert.equal(config.inputs[0]!.name, 'input-0');
  assert.ok(config.host.length > 0);
});

test('every problem is reported with its path, the bad value and what is allowed', () => {
  const bad = {
    inputs: [{ paths: ['/x'], format: 'combined', start_at: 'middle', typo: 1 }],
    kafka: { brokers: ['no-port'], topic: 'nginx', acks: 2 },
  };
  assert.throws(
    () => buildConfig(bad, {}, 'gateway.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /gateway\.yaml/);
      const text = err.problems.join('\n');
      assert.match(text, /inputs\[0\]\.start_at: must be one of "beginning", "end" \(got "middle"\)/);
      assert.match(text, /inputs\[0\]: unknown setting "typo"/);
      assert.match(text, /kafka\.acks: must be one of "all", 1, 0 \(got 2\)/);
      assert.match(text, /kafka\.brokers\[0\]: must be host:port .*\(got "no-port"\)/);
      return true;
    },
  );
});

test('an input needs a format or an nginx.conf with a log_format name', () => {
  assert.throws(() => buildConfig({ ...minimal, inputs: [{ paths: ['/x'] }] }), /inputs\[0\]: give either "format"/);
  assert.throws(() => buildConfig({ ...minimal, inputs: [{ paths: ['/x'], format: 'combined', nginx_conf: '/etc/nginx/nginx.conf' }] }), /give either/);
  const ok = buildConfig({ ...minimal, inputs: [{ paths: ['/x'], nginx_conf: '/etc/nginx/nginx.conf', format_name: 'main' }] });
  assert.equal(ok.inputs[0]!.format_name, 'main');
});

test('command-line flags override the file and can stand without one', () => {
  const config = buildConfig({}, { paths: ['/a.log'], format: 'main', brokers: ['b:1'], topic: 't' });
  assert.deepEqual(config.inputs.map((i) => [i.paths, i.format]), [[['/a.log'], 'main']]);
  assert.deepEqual([config.kafka.brokers, config.kafka.topic], [['b:1'], 't']);
  const over = buildConfig(minimal, { topic: 'other', brokers: ['c:2'] });
  assert.deepEqual([over.kafka.brokers, over.kafka.topic], [['c:2'], 'other']);
});

test('${VAR} and ${VAR:-default} are interpolated; a missing variable is named', (t) => {
  assert.equal(interpolateEnv('a ${X} b ${Y:-dflt} $${Z}', { X: '1' }, 'f'), 'a 1 b dflt ${Z}');
  assert.throws(() => interpolateEnv('${NOPE}', {}, 'kafka.topic'), /kafka\.topic: environment variable \$\{NOPE\} is not set/);
  const dir = tempDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, '# ${NOT_IN_COMMENTS}\ninputs:\n  - paths: ["${LOG_PATH}"]\n    format: combined\nkafka:\n  brokers: ["${BROKER:-k:9092}"]\n  topic: t\n  max_in_flight: ${INFLIGHT:-8}\n');
  const config = loadConfig(file, {}, { LOG_PATH: '/var/log/x.log' });
  assert.deepEqual([config.inputs[0]!.paths, config.kafka.brokers, config.kafka.max_in_flight], [['/var/log/x.log'], ['k:9092'], 8]);
  assert.throws(() => loadConfig(file, {}, {}), /inputs\[0\]\.paths\[0\]: environment variable \$\{LOG_PATH\}/);
});

test('YAML syntax errors name the file', (t) => {
  const file = join(tempDir(t), 'broken.yaml');
  writeFileSync(file, 'inputs: [\n');
  assert.throws(() => loadConfig(file), (err: unknown) => err instanceof ConfigError && /broken\.yaml/.test(err.message) && /YAML/.test(err.message));
});
