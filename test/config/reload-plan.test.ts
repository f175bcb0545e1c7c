/** Every setting is applied by a reload or named as needing a restart, by one table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load.ts';
import { changedSettings, RELOAD_RULES, reloadAction, reloadPlan, withSettings } from '../../src/config/reload-plan.ts';
import { configSchema } from '../../src/config/schema.ts';

/** Every setting path of the schema (an input's settings are `inputs`'s). */
function schemaPaths(schema: unknown, prefix = ''): string[] {
  const properties = (schema as { properties?: Record<string, unknown> }).properties;
  if (prefix === 'inputs' || properties === undefined) return [prefix];
  return Object.entries(properties).flatMap(([key, sub]) => schemaPaths(sub, prefix === '' ? key : `${prefix}.${key}`));
}

test('the table covers every setting of the schema, and names only settings that exist', () => {
  const paths = schemaPaths(configSchema);
  assert.ok(paths.includes('spool.max_bytes') && paths.includes('kafka.sasl.username'), paths.join(' '));
  const unclassified = paths.filter((path) => !Object.keys(RELOAD_RULES).some((rule) => path === rule || path.startsWith(rule + '.')));
  assert.deepEqual(unclassified, [], 'settings the reload table does not name (add them to RELOAD_RULES)');
  assert.deepEqual(Object.keys(RELOAD_RULES).filter((rule) => !paths.some((path) => path === rule || path.startsWith(rule + '.'))), [], 'rules for settings that do not exist');
});

const base = {
  inputs: [{ name: 'web', paths: ['/var/log/nginx/access.log'], format: 'combined' }],
  kafka: { brokers: ['k:9092'], topic: 'logs' },
  state_dir: '/tmp/state',
};

test('a reload plan names each changed setting precisely, applied or restart', () => {
  const current = buildConfig(base);
  const next = buildConfig({
    ...base,
    inputs: [{ ...base.inputs[0], on_error: 'drop' }],
    kafka: { ...base.kafka, topic: 'logs-{{ status }}', key: '{{ remote_addr }}', sasl: { mechanism: 'plain', username: 'u', password_env: 'P' } },
    spool: { max_bytes: '2GiB' },
    log_level: 'debug',
    shutdown_timeout_ms: '5s',
    batch: { linger_ms: 50 },
  });
  assert.deepEqual(reloadPlan(current, next), {
    applied: ['batch.linger_ms', 'inputs', 'kafka.key', 'kafka.topic', 'log_level', 'shutdown_timeout_ms'],
    restart: ['kafka.sasl', 'spool.max_bytes'],
  });
  assert.deepEqual(reloadPlan(current, buildConfig(base)), { applied: [], restart: [] });
  assert.equal(reloadAction('kafka.sasl.username'), 'restart');
  assert.equal(reloadAction('some.future_setting'), 'restart', 'unknown: a restart, never ignored');
  assert.deepEqual(changedSettings({ a: { b: 1, c: [1] } }, { a: { b: 1, c: [2] } }), ['a.c']);
});

test('what runs after a reload: the applied settings taken, the others kept', () => {
  const current = buildConfig({ ...base, kafka: { ...base.kafka, key: '{{ remote_addr }}' } });
  const next = buildConfig({ ...base, kafka: { ...base.kafka, brokers: ['other:9092'], topic: 'new' }, log_level: 'warn' });
  const plan = reloadPlan(current, next);
  const running = withSettings(current, next, plan.applied);
  assert.equal(running.kafka.topic, 'new');
  assert.equal(running.kafka.key, undefined, 'a key removed is removed');
  assert.equal(running.log_level, 'warn');
  assert.deepEqual(running.kafka.brokers, ['k:9092'], 'brokers need a restart: the running ones stay');
  assert.equal(current.kafka.topic, 'logs', 'the current configuration is not changed');
});
