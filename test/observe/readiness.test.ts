/** What /readyz answers: ready while Kafka works or fails in a way retries fix with the spool taking batches; not on failures no retry fixes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaErrorKind } from '../../src/kafka/describe-error.ts';
import { readiness } from '../../src/observe/readiness.ts';

const failing = (kind: KafkaErrorKind) => ({ kind, message: `Kafka says ${kind}` });

test('readiness by state, failure kind and spool', () => {
  assert.deepEqual(readiness({ state: 'running', failing: undefined, spoolAccepting: false }), { ready: true, detail: 'Kafka takes batches' });
  assert.equal(readiness({ state: 'created', failing: undefined, spoolAccepting: true }).ready, false);
  assert.equal(readiness({ state: 'stopping', failing: undefined, spoolAccepting: true }).detail, 'stopping');
  for (const kind of ['unreachable', 'timeout', 'other'] as const) {
    assert.equal(readiness({ state: 'running', failing: failing(kind), spoolAccepting: true }).ready, true, `${kind} with a spool`);
    const alone = readiness({ state: 'running', failing: failing(kind), spoolAccepting: false });
    assert.equal(alone.ready, false, `${kind} without a spool`);
    assert.match(alone.detail, /no spool takes them/);
  }
  for (const kind of ['auth', 'tls', 'authorization', 'unknown_topic', 'invalid_topic', 'too_large'] as const) {
    const r = readiness({ state: 'running', failing: failing(kind), spoolAccepting: true });
    assert.equal(r.ready, false, `${kind}: even with a spool taking batches`);
    assert.equal(r.detail, `Kafka says ${kind} (${kind}: retries will not fix it)`);
  }
});

test('the detail names the configured output', () => {
  assert.equal(readiness({ state: 'running', output: 'RabbitMQ', failing: undefined, spoolAccepting: false }).detail, 'RabbitMQ takes batches');
  assert.match(readiness({ state: 'running', output: 'Redis', failing: failing('unreachable'), spoolAccepting: true }).detail, /^Redis fails \(unreachable: /);
  assert.match(readiness({ state: 'running', output: 'Redis', failing: failing('timeout'), spoolAccepting: false }).detail, /^Redis does not accept batches and no spool takes them/);
});
