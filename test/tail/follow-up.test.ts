import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { FollowUps } from '../../src/tail/follow-up.ts';
import type { TailedFile } from '../../src/tail/tailed-file.ts';

/** FollowUps on mocked timers and clock: `reads` lists the ms (since start) at which each read was asked for. */
function rig(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const reads: number[] = [];
  const file = { released: false, lastGrowthAt: 0 } as TailedFile;
  const follow = new FollowUps(10, 50, () => reads.push(Date.now()));
  /** The read just asked for ends now, having found new lines or not. */
  const readEnds = (grew: boolean) => {
    if (grew) file.lastGrowthAt = Date.now();
    follow.afterRead(file, grew, Date.now());
  };
  return { reads, file, follow, readEnds, advance: (ms: number) => t.mock.timers.tick(ms) };
}

test('a file that grew is read again after firstMs, and again while it keeps growing', (t) => {
  const { reads, readEnds, advance } = rig(t);
  readEnds(true);
  advance(9);
  assert.deepEqual(reads, []);
  advance(1);
  assert.deepEqual(reads, [10]);
  readEnds(true);
  advance(10);
  assert.deepEqual(reads, [10, 20]);
});

test('reads that find nothing back off (20, 40 ms) and stop once the file has not grown for forMs', (t) => {
  const { reads, readEnds, advance } = rig(t);
  readEnds(true); // grew at 0
  advance(10);
  readEnds(false); // at 10: next in 20
  advance(20);
  assert.deepEqual(reads, [10, 30]);
  readEnds(false); // at 30: 30 ms since growth, next in 40
  advance(40);
  assert.deepEqual(reads, [10, 30, 70]);
  readEnds(false); // at 70: 70 ≥ 50, stop
  advance(1000);
  assert.deepEqual(reads, [10, 30, 70]);
});

test('a read that ends without being followed up (an event, the poll) and found nothing starts nothing', (t) => {
  const { reads, readEnds, advance } = rig(t);
  readEnds(false);
  advance(1000);
  assert.deepEqual(reads, []);
});

test('while a read is queued (the pipeline is full) the timer does not spin; the read ending re-arms it', (t) => {
  const { reads, readEnds, advance } = rig(t);
  readEnds(true);
  advance(10);
  advance(100); // the read asked for at 10 has not ended
  assert.deepEqual(reads, [10]);
  readEnds(true); // it ends at 110
  advance(10);
  assert.deepEqual(reads, [10, 120]);
});

test('released files and a stopped tailer get no more reads', (t) => {
  const { reads, file, follow, readEnds, advance } = rig(t);
  readEnds(true);
  file.released = true;
  advance(100);
  assert.deepEqual(reads, []);
  file.released = false;
  readEnds(true);
  follow.stop();
  readEnds(true); // the read under way when it stopped
  advance(100);
  assert.deepEqual(reads, []);
});
