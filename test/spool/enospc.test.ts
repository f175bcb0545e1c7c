/**
 * Disk full for real: the spool on a 1 MiB tmpfs (or, where tmpfs cannot be
 * mounted, a loop-mounted small ext4 image). Appends fail with the typed
 * error, nothing crashes, and once space is freed appends work again.
 */
import assert from 'node:assert/strict';
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool, SpoolFullError, verifySpool } from '../../src/spool/index.ts';
import { smallFilesystem } from '../support/small-fs.ts';
import { batch, captureLogger, drain, options, range } from './helpers.ts';

/** Appends 20-record batches until one fails; returns how many were stored and the error. */
async function fill(spool: Spool, from: number): Promise<{ stored: number; error: unknown }> {
  for (let b = 0; b < 10_000; b++) {
    try {
      await spool.append(batch(from + b * 20, 20), 20);
    } catch (error) {
      return { stored: b, error };
    }
  }
  return { stored: 10_000, error: undefined };
}

test('ENOSPC (when_full: block): SpoolFullError disk_full, no crash, nothing torn; appends work again once space is freed', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const dir = join(mnt, 'spool');
  const { log, lines } = captureLogger();
  // Another tenant of the filesystem holds 256 KiB; it goes away later.
  writeFileSync(join(mnt, 'other'), Buffer.alloc(256 * 1024, 1));
  const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);

  const first = await fill(spool, 0);
  assert.ok(first.error instanceof SpoolFullError, `typed error, got ${String(first.error)}`);
  assert.equal(first.error.reason, 'disk_full');
  assert.match(first.error.message, /ENOSPC/);
  assert.ok(first.stored > 10, `stored ${first.stored} batches before the disk filled`);
  assert.ok(lines.some((l) => l.msg.includes('no space left')));
  // Still full: a retry fails the same way; what is stored is intact.
  await assert.rejects(spool.append(batch(1_000_000, 20), 20), (err: SpoolFullError) => err.reason === 'disk_full');
  assert.equal(spool.stats().entries, first.stored);

  // Space is freed by someone else: appends work again.
  unlinkSync(join(mnt, 'other'));
  const second = await fill(spool, 100_000);
  assert.ok(second.error instanceof SpoolFullError && second.error.reason === 'disk_full');
  assert.ok(second.stored > 10, `stored ${second.stored} more batches once space was freed`);

  // Or by replay: acked entries free their segments, and appends work again.
  const segmentsBefore = readdirSync(dir).filter((n) => n.endsWith('.seg')).length;
  for (let i = 0; i < 30; i++) await spool.ack((await spool.next())!);
  assert.ok(readdirSync(dir).filter((n) => n.endsWith('.seg')).length < segmentsBefore, 'drained segments deleted');
  await spool.append(batch(500_000, 20), 20);

  // After a reopen: every stored batch once, in order; nothing torn or corrupt on disk.
  await spool.close();
  const report = await verifySpool(dir);
  assert.equal(report.ok, true);
  assert.equal(report.tornTails, 0, 'failed writes were cut back');
  const again = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  const replayed = await drain(again);
  const expected = [
    ...range(30 * 20, (first.stored - 30) * 20),
    ...range(100_000, second.stored * 20),
    ...range(500_000, 20),
  ];
  assert.deepEqual(replayed, expected);
  assert.equal(again.stats().corruptSkipped, 0);
  await again.close();
});

test('ENOSPC with when_full: drop_oldest drops the oldest segment and the append succeeds', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const dir = join(mnt, 'spool');
  const { log } = captureLogger();
  const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024, whenFull: 'drop_oldest' }), log);
  const result = await fill(spool, 0);
  // Fill stops only at 10,000 batches (~20x the filesystem): disk full was handled by dropping, every time.
  assert.equal(result.error, undefined, `no error expected, got ${String(result.error)}`);
  const s = spool.stats();
  assert.ok(s.droppedOldest > 0);
  assert.equal(s.entries + s.droppedOldest, 10_000);
  const replayed = await drain(spool);
  assert.equal(replayed.length, s.entries * 20);
  assert.equal(replayed.at(-1), 10_000 * 20 - 1, 'the newest records are kept');
  await spool.close();
});

test('ENOSPC with nothing spooled (another tenant filled the disk): refused at once, no retry loop; whenRoom() resolves when the tenant frees room', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const dir = join(mnt, 'spool');
  const { log, lines } = captureLogger();
  const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  t.after(() => spool.close());
  const other = join(mnt, 'other');
  try {
    writeFileSync(other, Buffer.alloc(2 << 20, 1)); // more than the filesystem: fills it
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  for (let i = 0; i < 3; i++) {
    await assert.rejects(spool.append(batch(i * 20, 20), 20), (err: SpoolFullError) => err.reason === 'disk_full');
  }
  assert.equal(spool.stats().full, 'disk_full');
  assert.equal(spool.stats().entries, 0);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.seg')), [], 'no empty segment left behind');
  assert.equal(lines.filter((l) => l.msg.includes('no space left')).length, 1, 'logged once, not per refusal');

  const room = spool.whenRoom();
  let woken = false;
  void room.then(() => (woken = true));
  await new Promise((resolve) => setTimeout(resolve, 600)); // several free-space probes: the disk is still full
  assert.equal(woken, false, 'no wake-up while the disk stays full');
  unlinkSync(other);
  await room; // the probe sees the room (the test's timeout is the bound)
  await spool.append(batch(100, 20), 20);
  assert.equal(spool.stats().full, undefined);
  assert.ok(lines.some((l) => l.msg === 'spool has room again'));
  assert.deepEqual(await drain(spool), range(100, 20));
});
