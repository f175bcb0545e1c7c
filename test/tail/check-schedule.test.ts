/** When the poll looks at a file (src/tail/check-schedule.ts): often while it changes, rarely while it is quiet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckSchedule } from '../../src/tail/check-schedule.ts';
import type { TailedFile } from '../../src/tail/tailed-file.ts';

const file = (detached = false) => ({ nextCheckAt: 0, checkIntervalMs: 0, detached }) as TailedFile;

test('a quiet file is looked at less and less often, up to the idle interval; an event brings it back', () => {
  const schedule = new CheckSchedule(250, 5000);
  const f = file();
  const waits: number[] = [];
  for (let i = 0; i < 7; i++) {
    schedule.quiet(f, 1_000_000);
    waits.push(f.nextCheckAt - 1_000_000);
  }
  assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 5000, 5000]);
  assert.equal(schedule.due(f, 1_000_000 + 4999), false);
  assert.equal(schedule.due(f, 1_000_000 + 5000), true);
  schedule.wake(f);
  assert.equal(schedule.due(f, 0), true, 'due at once');
  schedule.quiet(f, 2_000_000);
  assert.equal(f.nextCheckAt - 2_000_000, 250, 'and on the short interval again');
});

test('a detached file (rotated away, draining) stays on the short interval: its release is timed by rotate_wait', () => {
  const schedule = new CheckSchedule(250, 5000);
  const f = file(true);
  for (let i = 0; i < 5; i++) schedule.quiet(f, 0);
  assert.equal(f.nextCheckAt, 250);
});

test('the poll sleeps until the first file is due, polls no more often than the short interval, and an event asks for one within it', () => {
  const wanted: number[] = [];
  const schedule = new CheckSchedule(250, 5000, (at) => wanted.push(at));
  const quiet = { ...file(), nextCheckAt: 1_005_000 } as TailedFile;
  const sooner = { ...file(), nextCheckAt: 1_004_000 } as TailedFile;
  assert.equal(schedule.nextPoll([quiet, sooner], false, 1_000_000), 1_004_000);
  assert.equal(schedule.nextPoll([], false, 1_000_000), Infinity, 'no file, no poll');
  assert.equal(schedule.nextPoll([quiet], true, 1_000_000), 1_000_250, 'a path waiting for its first line is retried at the short interval');
  assert.equal(schedule.nextPoll([{ ...file(), nextCheckAt: 0 } as TailedFile], false, 1_000_000), 1_000_250, 'a woken file: the next poll, not a busy loop');
  const before = Date.now();
  schedule.wake(quiet);
  assert.equal(wanted.length, 1);
  assert.ok(wanted[0]! >= before + 250 && wanted[0]! <= Date.now() + 250);
});
