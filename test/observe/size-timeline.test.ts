/** How long a file's undelivered bytes have waited: never younger than the truth, at most a second older. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SizeTimeline } from '../../src/observe/size-timeline.ts';

test('a steady writer delivered promptly waits ~0; a stall waits since its first byte was seen', () => {
  const sizes = new SizeTimeline();
  for (let t = 0; t <= 10_000; t += 250) sizes.saw(t * 10, t);
  // Delivered up to what was written at 9.5 s: the bytes after it were first seen at 9.75 s; told within a second, never later.
  const since = sizes.waitingSince(95_000)!;
  assert.ok(since <= 9_750 && since >= 8_750, `waiting since ${since}`);
  // Delivery stalls at 50_000 (written at 5 s) while writing goes on: the wait counts from then (within a second), not from the last sample.
  const stalled = new SizeTimeline();
  for (let t = 0; t <= 60_000; t += 250) stalled.saw(t * 10, t);
  const from = stalled.waitingSince(50_000)!;
  assert.ok(from <= 5_250 && from >= 4_250, `waiting since ${from}`);
  assert.equal(stalled.waitingSince(600_000), undefined, 'everything seen is delivered');
});

test('a long outage keeps a bounded timeline, still never younger than the truth', () => {
  const sizes = new SizeTimeline();
  for (let t = 0; t < 3_600_000; t += 1000) sizes.saw(t, t);
  // The bytes past 1_800_000 were first seen at 1_801_000.
  const since = sizes.waitingSince(1_800_000)!;
  assert.ok(since <= 1_801_000, `waiting since ${since}`);
  assert.ok(since >= 1_801_000 - 3_600_000 / 32, `coarse, but not much: ${since}`);
  assert.ok((sizes as unknown as { sizes: number[] }).sizes.length <= 64);
});

test('a truncated file starts a new timeline', () => {
  const sizes = new SizeTimeline();
  sizes.saw(1000, 0);
  sizes.saw(10, 5_000);
  assert.equal(sizes.waitingSince(0), 5_000);
});
