/**
 * What the README's examples lean on: a comma-separated KAFKA_BROKERS is a
 * list of brokers, and the flags --metrics-listen and --exclude.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildConfig, loadConfig, METRICS_LISTEN_ENV } from '../../src/config/load.ts';
import { tempDir } from '../support/agent.ts';

const minimal = { inputs: [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }], kafka: { brokers: ['k:9092'], topic: 't' } };

test('KAFKA_BROKERS=a:9092,b:9092 gives two brokers in brokers: ["${KAFKA_BROKERS}"] and brokers: ${KAFKA_BROKERS}; globs keep their commas', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'logship.yaml');
  const env = { KAFKA_BROKERS: 'a:9092, b:9092,', LOG_GLOB: '/var/log/nginx/{a,b}.log' };
  writeFileSync(file, 'inputs:\n  - paths: ["${LOG_GLOB}"]\n    format: combined\nkafka:\n  brokers: ["${KAFKA_BROKERS}"]\n  topic: t\n');
  const config = loadConfig(file, {}, env);
  assert.deepEqual(config.kafka.brokers, ['a:9092', 'b:9092']);
  assert.deepEqual(config.inputs[0]!.paths, ['/var/log/nginx/{a,b}.log']);
  writeFileSync(file, 'inputs:\n  - paths: [/x.log]\n    format: combined\nkafka:\n  brokers: ${KAFKA_BROKERS}\n  topic: t\n');
  assert.deepEqual(loadConfig(file, {}, env).kafka.brokers, ['a:9092', 'b:9092']);
  writeFileSync(file, 'inputs:\n  - paths: [/x.log]\n    format: combined\nkafka:\n  brokers: ["${KAFKA_BROKERS:-c:9092}", "d:9092"]\n  topic: t\n');
  assert.deepEqual(loadConfig(file, {}, {}).kafka.brokers, ['c:9092', 'd:9092']);
  assert.throws(() => loadConfig(file, {}, { KAFKA_BROKERS: 'a:9092,nonsense' }), /kafka\.brokers\[1\]: must be host:port/);
});

test('--metrics-listen wins over the file and LOGSHIP_METRICS_LISTEN; --exclude goes with --path', () => {
  const withListen = { ...minimal, metrics: { listen: '127.0.0.1:9100' } };
  assert.equal(buildConfig(withListen, { metrics_listen: '0.0.0.0:9200' }, 'test', { [METRICS_LISTEN_ENV]: '0.0.0.0:9598' }).metrics.listen, '0.0.0.0:9200');
  assert.equal(buildConfig(minimal, { metrics_listen: '127.0.0.1:9300' }, 'test', {}).metrics.listen, '127.0.0.1:9300');
  assert.throws(() => buildConfig(minimal, { metrics_listen: 'localhost:99999' }, 'test', {}), /metrics\.listen: must be host:port/);
  const flags = buildConfig({}, { paths: ['/var/log/nginx/*.log'], exclude: ['/var/log/nginx/error.log'], format: 'combined', brokers: ['k:9092'], topic: 't' }, 'command line', {});
  assert.deepEqual([flags.inputs[0]!.paths, flags.inputs[0]!.exclude], [['/var/log/nginx/*.log'], ['/var/log/nginx/error.log']]);
});
