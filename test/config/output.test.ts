import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, buildConfig } from '../../src/config/load.ts';

const inputs = [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }];
const kafka = { brokers: ['k:9092'], topic: 'nginx' };

function problems(raw: unknown): string[] {
  try {
    buildConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('the configuration was accepted');
}

test('without an output section, Kafka is the output and kafka: is required, as before', () => {
  assert.equal(buildConfig({ inputs, kafka }).output.type, 'kafka');
  assert.deepEqual(problems({ inputs }), ['(top level): missing required setting "kafka"']);
  assert.deepEqual(problems({ inputs, output: { type: 'kafka' } }), ['(top level): missing required setting "kafka"']);
});

test('output rabbitmq: no kafka section needed; the delivery settings come from output.rabbitmq', () => {
  const config = buildConfig({
    inputs,
    output: { type: 'rabbitmq', rabbitmq: { url: 'amqp://mq:5672/logs', exchange: 'nginx', routing_key: 'access.{{ status }}', max_in_flight: 8, confirm_timeout_ms: '10s' } },
  });
  assert.equal(config.kafka.topic, 'access.{{ status }}');
  assert.equal(config.kafka.dead_letter_topic, 'logship-dead-letter');
  assert.equal(config.kafka.max_in_flight, 8);
  assert.equal(config.kafka.request_timeout_ms, 10_000);
  assert.deepEqual(config.kafka.brokers, ['amqp://mq:5672/logs']);
});

test('output redis: the stream template and dead-letter stream stand in for the topic and dead-letter topic', () => {
  const config = buildConfig({ inputs, output: { type: 'redis', redis: { url: 'rediss://user:secret@cache:6380/2', stream: 'nginx:{{ source.host }}', dead_letter_stream: 'dead' } } });
  assert.equal(config.kafka.topic, 'nginx:{{ source.host }}');
  assert.equal(config.kafka.dead_letter_topic, 'dead');
  assert.deepEqual(config.kafka.brokers, ['rediss://cache:6380/2'], 'credentials are not shown');
});

test("an output's section is required for its type, its URL scheme checked, one password source at most", () => {
  assert.deepEqual(problems({ inputs, output: { type: 'redis' } }), ['output: missing required setting "redis"']);
  assert.match(problems({ inputs, output: { type: 'rabbitmq', rabbitmq: { url: 'http://mq', exchange: 'x', routing_key: 'k' } } }).join('\n'), /output\.rabbitmq\.url: must match pattern/);
  assert.deepEqual(problems({ inputs, output: { type: 'redis', redis: { url: 'redis://r', stream: 's', password_env: 'A', password_file: '/b' } } }), [
    'output.redis: give the password as password_env or password_file, not both',
  ]);
  assert.match(problems({ inputs, output: { type: 'mqtt' } }).join('\n'), /output\.type: must be one of "kafka", "rabbitmq", "redis"/);
});
