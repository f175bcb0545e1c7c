/** LOGSHIP_METRICS_LISTEN (set by the container image) is metrics.listen's default; a configuration's own setting wins. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig, METRICS_LISTEN_ENV } from '../../src/config/load.ts';

const minimal = { inputs: [{ paths: ['/var/log/nginx/access.log'], format: 'combined' }], kafka: { brokers: ['k:9092'], topic: 't' } };

test('metrics.listen: 127.0.0.1:9598, else LOGSHIP_METRICS_LISTEN, else what the configuration says', () => {
  assert.equal(buildConfig(minimal, {}, 'test', {}).metrics.listen, '127.0.0.1:9598');
  assert.equal(buildConfig(minimal, {}, 'test', { [METRICS_LISTEN_ENV]: '0.0.0.0:9598' }).metrics.listen, '0.0.0.0:9598');
  const own = buildConfig({ ...minimal, metrics: { enabled: true, listen: '127.0.0.1:9100' } }, {}, 'test', { [METRICS_LISTEN_ENV]: '0.0.0.0:9598' });
  assert.deepEqual(own.metrics, { enabled: true, listen: '127.0.0.1:9100' });
  assert.throws(() => buildConfig(minimal, {}, 'test', { [METRICS_LISTEN_ENV]: 'nonsense' }), /metrics\.listen: must be host:port .*\(got "nonsense"\)/);
});
