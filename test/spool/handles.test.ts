/**
 * Issue 13: a segment deleted while this process still holds it open keeps
 * its disk space, so on a full disk nothing was ever freed. The reader's
 * handle is closed before its segment is unlinked, whichever way the
 * segment goes (drained by acks, dropped by drop_oldest), and a full disk
 * drained by replay takes as much again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool, SpoolFullError } from '../../src/spool/index.ts';
import { tempDir } from '../support/agent.ts';
import { smallFilesystem } from '../support/small-fs.ts';
import { batch, captureLogger, drain, options, range } from './helpers.ts';

/** Files under `dir` this process holds open although they are deleted. */
function deletedButOpen(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(join('/proc/self/fd', fd));
      if (target.startsWith(dir) && target.endsWith('(deleted)')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg'));

test('acks that drain a segment close the reader handle on it before it is deleted (the last, active one too)', async (t) => {
  const dir = tempDir(t);
  const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), captureLogger().log);
  t.after(() => spool.close());
  for (let b = 0; b < 20; b++) await spool.append(batch(b * 100, 100), 100);
  assert.ok(segments(dir).length > 3, 'several segments');
  const deletions: string[][] = [];
  for (let e = await spool.next(); e; e = await spool.next()) {
    const before = segments(dir).length;
    await spool.ack(e);
    if (segments(dir).length < before) deletions.push(deletedButOpen(dir));
  }
  assert.ok(deletions.length >= 3, `segments were deleted along the way (${deletions.length})`);
  assert.deepEqual(deletions.flat(), [], 'no deleted segment left open');
  assert.deepEqual(segments(dir), []);
  // The spool goes on in a new segment after the last one was deleted under the reader.
  await spool.append(batch(9000, 5), 5);
  assert.deepEqual(await drain(spool), range(9000, 5));
  assert.deepEqual(deletedButOpen(dir), []);
});

test('drop_oldest closes the reader handle on the segment it drops', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  const spool = await Spool.open(options(dir, { maxBytes: 40_000, segmentBytes: 10_000, whenFull: 'drop_oldest' }), log);
  t.after(() => spool.close());
  await spool.append(batch(0, 10), 10);
  await spool.append(batch(10, 10), 10);
  // The reader now holds the oldest segment open (an entry is in flight from it).
  assert.ok(await spool.next());
  for (let b = 2; b < 60; b++) await spool.append(batch(b * 10, 10), 10);
  assert.ok(lines.some((l) => l.msg.includes('drop_oldest') && l.first_seq === 1), 'the segment being read was dropped');
  assert.deepEqual(deletedButOpen(dir), []);
});

test('a full disk drained by replay is free again: the spool takes as much as before, without reopening', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const dir = join(mnt, 'spool');
  const spool = await Spool.open(options(dir, { segmentBytes: 1 << 20 }), captureLogger().log);
  t.after(() => spool.close());
  const fill = async (from: number): Promise<number> => {
    for (let b = 0; ; b++) {
      try {
        await spool.append(batch(from + b * 20, 20), 20);
      } catch (err) {
        assert.ok(err instanceof SpoolFullError && err.reason === 'disk_full', String(err));
        return b;
      }
    }
  };
  const free = () => statfsSync(mnt).bfree;
  const emptyFree = free();
  const first = await fill(10_000); // record numbers of five digits in both fills: same sizes
  assert.ok(first > 10, `stored ${first} batches`);
  assert.equal((await drain(spool)).length, first * 20);
  assert.deepEqual(deletedButOpen(dir), []);
  assert.ok(free() >= emptyFree - 2, `the space is back (${free()} of ${emptyFree} blocks free)`);
  const second = await fill(50_000);
  assert.ok(second >= first - 1, `took ${second} batches again (first ${first})`);
  writeFileSync(join(mnt, 'marker'), ''); // the filesystem still works for others
});

test('a segment removed behind the spool\'s back: its entries are skipped as lost (counted, logged), replay goes on with the next', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  t.after(() => spool.close());
  for (let b = 0; b < 20; b++) await spool.append(batch(b * 100, 100), 100);
  const [first, second] = segments(dir).sort();
  const firstEntries = spool.stats().entries;
  unlinkSync(join(dir, first!));
  const replayed = await drain(spool);
  assert.ok(replayed.length > 0 && replayed.length < 2000, `the other segments replayed (${replayed.length} records)`);
  assert.equal(replayed[0]! % 100, 0, 'from the first entry of the next segment');
  assert.ok(spool.isEmpty);
  const lost = lines.filter((l) => l.problem === 'segment file missing');
  assert.ok(lost.length > 0 && lost.every((l) => l.segment === join(dir, first!)));
  assert.equal(spool.stats().corruptSkipped, lost.length);
  assert.equal(replayed.length / 100 + lost.length, firstEntries);
  assert.ok(second, 'there was a second segment');
});
