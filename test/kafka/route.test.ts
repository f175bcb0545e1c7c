/** Where delivery sends the oldest batches next (route.ts), every case. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeFor, waitBefore, type Route, type RouteState } from '../../src/kafka/route.ts';

const base: RouteState = { spool: true, spoolHolds: false, keepOrder: true, kafkaFailing: false, spoolRefused: false };

test('route: every combination that matters', () => {
  const cases: [string, Partial<RouteState>, Route][] = [
    ['no spool: Kafka, failing or not', { spool: false, kafkaFailing: true }, 'kafka'],
    ['no spool, nothing wrong', { spool: false }, 'kafka'],
    ['all well: Kafka', {}, 'kafka'],
    ['Kafka failing, the spool empty: to disk', { kafkaFailing: true }, 'spool'],
    ['the spool holds older entries: behind them, though Kafka works', { spoolHolds: true }, 'spool'],
    ['the spool holds older entries and refused: wait for its room, order kept', { spoolHolds: true, kafkaFailing: true, spoolRefused: true }, 'spool'],
    ['the empty spool refused (disk full for another reason): Kafka', { kafkaFailing: true, spoolRefused: true }, 'kafka'],
    ['keep_order off: Kafka while it works, the spool holding entries', { spoolHolds: true, keepOrder: false }, 'kafka'],
    ['keep_order off, Kafka failing: to disk', { spoolHolds: true, keepOrder: false, kafkaFailing: true }, 'spool'],
    ['keep_order off, the spool refused: Kafka', { spoolHolds: true, keepOrder: false, kafkaFailing: true, spoolRefused: true }, 'kafka'],
  ];
  for (const [what, state, expected] of cases) assert.equal(routeFor({ ...base, ...state }), expected, what);
});

test('waits: only a Kafka failure whose batches go to the spool next goes on at once', () => {
  assert.equal(waitBefore('kafka', 'spool'), false);
  assert.equal(waitBefore('kafka', 'kafka'), true);
  assert.equal(waitBefore('spool', 'kafka'), true, 'a refusing spool and a failing Kafka alternate at the backoff pace');
  assert.equal(waitBefore('spool', 'spool'), true);
});
