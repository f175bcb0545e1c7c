/** What happened to a followed file (src/tail/rotation.ts): one row per rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRotation, type FileObservation, type TailTimings } from '../../src/tail/rotation.ts';

const now = 100_000;
const base: FileObservation = {
  size: 500,
  readOffset: 500,
  sameContent: true,
  atPath: 'this',
  detached: false,
  hasPartial: false,
  pending: 0,
  queued: false,
  now,
  lastGrowthAt: now - 10,
  detachedAt: 0,
};
const timings: TailTimings = { rotateWaitMs: 5000, partialFlushMs: 0 };

const rows: [string, Partial<FileObservation>, Partial<TailTimings>, ReturnType<typeof decideRotation>][] = [
  ['nothing new', {}, {}, { kind: 'quiet', flushPartial: false }],
  ['grew', { size: 600 }, {}, { kind: 'grew' }],
  ['shrank below what was read: truncated', { size: 100 }, {}, { kind: 'truncated' }],
  ['regrew past what was read with another first line: truncated', { size: 900, sameContent: false }, {}, { kind: 'truncated' }],
  ['truncation wins over rotation', { size: 0, atPath: 'other' }, {}, { kind: 'truncated' }],
  ['growth is read before a rotation is acted on', { size: 600, atPath: 'other' }, {}, { kind: 'grew' }],
  ['its path holds another file: rotated', { atPath: 'other' }, {}, { kind: 'detach', how: 'rotated', flushPartial: false }],
  ['its path holds nothing: deleted', { atPath: 'none' }, {}, { kind: 'detach', how: 'deleted', flushPartial: false }],
  ['detached, quiet for rotate_wait, all acked: released', { detached: true, atPath: 'unchecked', detachedAt: now - 6000, lastGrowthAt: now - 7000 }, {}, { kind: 'release' }],
  ['detached, but it grew within rotate_wait: kept', { detached: true, atPath: 'unchecked', detachedAt: now - 6000, lastGrowthAt: now - 100 }, {}, { kind: 'quiet', flushPartial: false }],
  ['detached a moment ago after a long quiet spell: rotate_wait counts from the rotation', { detached: true, atPath: 'unchecked', detachedAt: now - 100, lastGrowthAt: now - 60_000 }, {}, { kind: 'quiet', flushPartial: false }],
  ['detached and drained but lines not acked yet: kept', { detached: true, atPath: 'unchecked', detachedAt: now - 6000, lastGrowthAt: now - 7000, pending: 1 }, {}, { kind: 'quiet', flushPartial: false }],
  ['detached and drained but queued for a read: kept', { detached: true, atPath: 'unchecked', detachedAt: now - 6000, lastGrowthAt: now - 7000, queued: true }, {}, { kind: 'quiet', flushPartial: false }],
  ['a partial last line after partial_line_flush_ms: flushed', { hasPartial: true, lastGrowthAt: now - 2000 }, { partialFlushMs: 1000 }, { kind: 'quiet', flushPartial: true }],
  ['a partial last line before partial_line_flush_ms: kept', { hasPartial: true, lastGrowthAt: now - 500 }, { partialFlushMs: 1000 }, { kind: 'quiet', flushPartial: false }],
  ['a partial last line with flushing off: kept', { hasPartial: true, lastGrowthAt: now - 60_000 }, {}, { kind: 'quiet', flushPartial: false }],
  ['a partial last line of a file being rotated away: flushed as it detaches', { hasPartial: true, lastGrowthAt: now - 2000, atPath: 'other' }, { partialFlushMs: 1000 }, { kind: 'detach', how: 'rotated', flushPartial: true }],
];

for (const [name, observation, t, expected] of rows) {
  test(`rotation: ${name}`, () => {
    assert.deepEqual(decideRotation({ ...base, ...observation }, { ...timings, ...t }), expected);
  });
}
