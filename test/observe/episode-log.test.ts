/** A condition that comes and goes many times a second is logged about twice a minute, and the last line tells the state. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EpisodeLog } from '../../src/observe/episode-log.ts';

test('episode log: the first start and its end; flapping within a minute is quiet; a lasting or new condition is logged again', () => {
  let now = 0;
  const log = new EpisodeLog(60_000, () => now);
  assert.equal(log.failing('disk_full'), true, 'first start');
  assert.equal(log.failing('disk_full'), false, 'a retry that fails again');
  assert.equal(log.holds, true);
  assert.equal(log.recovered(), 2, 'its end, with the refusals');
  assert.equal(log.recovered(), undefined, 'ended once');
  now = 1_000;
  assert.equal(log.failing('disk_full'), false, 'flapping: quiet');
  assert.equal(log.recovered(), undefined, 'and so is its end');
  now = 2_000;
  assert.equal(log.failing('disk_full'), false);
  now = 61_000;
  assert.equal(log.failing('disk_full'), true, 'still full a minute after the last line: logged again');
  now = 62_000;
  assert.equal(log.recovered(), 2);
  assert.equal(log.failing('max_bytes'), true, 'another reason: logged at once');
});
