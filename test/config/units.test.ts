/** Sizes and durations take units (64MiB, 30s) next to plain numbers; the loaded configuration holds bytes and milliseconds. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { buildConfig, ConfigError, loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { validate } from '../../src/config/validate-config.generated.ts';
import { tempDir } from '../support/agent.ts';

const minimal = { inputs: [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }], kafka: { brokers: ['k:9092'], topic: 'nginx' } };

test('sizes: IEC units are powers of 1024, SI units powers of 1000, case does not matter', () => {
  const config = buildConfig({
    ...minimal,
    inputs: [{ paths: ['/x'], format: 'combined', max_line_bytes: '64KiB', fingerprint_bytes: '1kb' }],
    kafka: { ...minimal.kafka, max_message_bytes: '1MB' },
    batch: { max_bytes: '512 KiB' },
    spool: { max_bytes: '2GiB', segment_bytes: '64mib' },
  });
  assert.deepEqual(
    [config.inputs[0]!.max_line_bytes, config.inputs[0]!.fingerprint_bytes, config.kafka.max_message_bytes, config.batch.max_bytes, config.spool.max_bytes, config.spool.segment_bytes],
    [65536, 1000, 1_000_000, 524_288, 2 * 2 ** 30, 64 * 2 ** 20],
  );
  assert.equal(buildConfig({ ...minimal, batch: { max_bytes: '64MB' } }).batch.max_bytes, 64_000_000);
  assert.equal(buildConfig({ ...minimal, batch: { max_bytes: '64MiB' } }).batch.max_bytes, 67_108_864);
  assert.equal(buildConfig({ ...minimal, batch: { max_bytes: 4096 } }).batch.max_bytes, 4096, 'a plain number is bytes');
});

test('durations: ms, s, m, h, d, to the nearest millisecond; a plain number is milliseconds', () => {
  const config = buildConfig({
    ...minimal,
    inputs: [{ paths: ['/x'], format: 'combined', poll_interval_ms: '250ms', rotate_wait_ms: '5s', ignore_older_ms: '7d', scan_interval_ms: '1.5s', idle_poll_interval_ms: '2.6ms' }],
    kafka: { ...minimal.kafka, request_timeout_ms: '30s', retry_backoff_max_ms: '2m' },
    batch: { linger_ms: 200 },
    spool: { fsync_interval_ms: '1s' },
    shutdown_timeout_ms: '1h',
  });
  const input = config.inputs[0]!;
  assert.deepEqual(
    [input.poll_interval_ms, input.rotate_wait_ms, input.ignore_older_ms, input.scan_interval_ms, input.idle_poll_interval_ms, config.kafka.request_timeout_ms, config.kafka.retry_backoff_max_ms, config.batch.linger_ms, config.spool.fsync_interval_ms, config.shutdown_timeout_ms],
    [250, 5000, 7 * 86_400_000, 1500, 3, 30_000, 120_000, 200, 1000, 3_600_000],
  );
});

test('a bad size or duration says what is allowed, with the value as written', () => {
  const bad = {
    ...minimal,
    batch: { max_bytes: '64 parsecs', linger_ms: '5 fortnights' },
    spool: { segment_bytes: '1KiB' },
    kafka: { ...minimal.kafka, request_timeout_ms: '0s', retry_backoff_ms: '0.4ms', retry_backoff_max_ms: '999999999999d' },
  };
  assert.throws(
    () => buildConfig(bad),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      process.stdout.write(`# ${text.replace(/\n/g, '\n# ')}\n`);
      assert.match(text, /batch\.max_bytes: must be a size: bytes, or a number with a unit \(B, KB, MB, GB, TB; KiB, MiB, GiB, TiB\), e\.g\. 64MiB \(got "64 parsecs"\)/);
      assert.match(text, /batch\.linger_ms: must be a duration: milliseconds, or a number with a unit \(ms, s, m, h, d\), e\.g\. 30s \(got "5 fortnights"\)/);
      assert.match(text, /spool\.segment_bytes: must be a size: .*at least 65536 \(64 KiB\) \(got "1KiB"\)/);
      assert.match(text, /kafka\.request_timeout_ms: must be a duration: .*at least 1 ms \(got "0s"\)/);
      assert.match(text, /kafka\.retry_backoff_ms: must be a duration: .*at least 1 ms \(got "0\.4ms"\)/, 'rounded to the millisecond');
      assert.match(text, /kafka\.retry_backoff_max_ms: must be a duration: .*too large \(got "999999999999d"\)/);
      return true;
    },
  );
});

test('in a YAML file, unquoted', (t) => {
  const file = join(tempDir(t), 'units.yaml');
  writeFileSync(file, 'inputs:\n  - paths: [/x]\n    format: combined\n    rotate_wait_ms: 10s\nkafka:\n  brokers: [k:9092]\n  topic: t\nbatch:\n  max_bytes: 256KiB\nspool:\n  max_bytes: ${SPOOL_MAX:-4GiB}\n');
  const config = loadConfig(file, {}, {});
  assert.deepEqual([config.inputs[0]!.rotate_wait_ms, config.batch.max_bytes, config.spool.max_bytes], [10_000, 262_144, 4 * 2 ** 30]);
});

test('the published JSON Schema and the generated validator accept units as written (editors, check)', () => {
  const doc = { ...minimal, batch: { max_bytes: '64MiB', linger_ms: '1s' }, spool: { max_bytes: '10GB' } };
  assert.equal(validate(structuredClone(doc)), true);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const schema = ajv.compile(configSchema);
  assert.equal(schema(structuredClone(doc)), true, JSON.stringify(schema.errors));
  assert.equal(schema({ ...minimal, batch: { max_bytes: '64 parsecs' } }), false);
});
