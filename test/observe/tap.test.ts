/** Where `logship tap` is served, and what a /tap request may ask (src/observe/tap.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackListen, MAX_TAP_RATE, tapPolicy, tapRequest } from '../../src/observe/tap.ts';

test('tap is on for a loopback listen address, off elsewhere unless metrics.tap says so', () => {
  for (const listen of ['127.0.0.1:9598', '127.8.0.3:1', 'localhost:9598', '[::1]:9598']) {
    assert.equal(isLoopbackListen(listen), true, listen);
    assert.deepEqual(tapPolicy({ listen }), { enabled: true });
  }
  for (const listen of ['0.0.0.0:9598', '[::]:9598', '10.1.2.3:9598', 'node-1.example:9598', '[fe80::1]:9598']) {
    assert.equal(isLoopbackListen(listen), false, listen);
    const policy = tapPolicy({ listen });
    assert.equal(policy.enabled, false);
    assert.match(policy.reason!, new RegExp(`^tap is off: metrics.listen ${listen.replace(/[[\].]/g, '\\$&')} is not a loopback address .*set metrics.tap: true`));
    assert.deepEqual(tapPolicy({ listen, tap: true }), { enabled: true });
  }
  assert.deepEqual(tapPolicy({ listen: '127.0.0.1:9598', tap: false }), { enabled: false, reason: 'tap is disabled by metrics.tap: false in the configuration' });
});

test('a /tap query: filters and rate, each checked', () => {
  assert.deepEqual(tapRequest(new URLSearchParams('')), { filters: {}, rate: 5 });
  assert.deepEqual(tapRequest(new URLSearchParams('input=web&file=*.log&topic=t&rate=0.5')), { filters: { input: 'web', file: '*.log', topic: 't' }, rate: 0.5 });
  assert.throws(() => tapRequest(new URLSearchParams('rate=0')), /^Error: rate: 0 is not a number of records a second between 0 and 1000$/);
  assert.throws(() => tapRequest(new URLSearchParams(`rate=${MAX_TAP_RATE + 1}`)), /rate: 1001/);
  assert.throws(() => tapRequest(new URLSearchParams('rate=many')), /rate: many/);
  assert.throws(() => tapRequest(new URLSearchParams('input=')), /input: empty/);
  assert.throws(() => tapRequest(new URLSearchParams('path=x')), /unknown parameter path \(known: input, file, topic, rate\)/);
});
