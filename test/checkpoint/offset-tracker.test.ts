import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';

test('the committed offset moves only over a prefix of acked batches', () => {
  const seen: number[] = [];
  const tracker = new OffsetTracker(0, (t) => seen.push(t.committed));
  const a = tracker.issue(100);
  const b = tracker.issue(200);
  const c = tracker.issue(300);
  tracker.ack(b);
  assert.equal(tracker.committed, 0, 'b acked before a: nothing is safe yet');
  tracker.ack(a);
  assert.equal(tracker.committed, 200);
  assert.equal(tracker.pending, 1);
  tracker.ack(c);
  assert.equal(tracker.committed, 300);
  assert.deepEqual(seen, [200, 300]);
  assert.equal(tracker.pending, 0);
});

test('after a truncation reset, acks of batches from before it are ignored', () => {
  const tracker = new OffsetTracker(50, () => undefined);
  const old = tracker.issue(500);
  tracker.reset();
  assert.equal(tracker.committed, 0);
  const fresh = tracker.issue(40);
  tracker.ack(old);
  assert.equal(tracker.committed, 0);
  tracker.ack(fresh);
  assert.equal(tracker.committed, 40);
});
