/**
 * The spool on real files: round trip, cursor, segment deletion, torn
 * writes, corruption, bounds and fsync policies.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { Spool, SpoolFullError, verifySpool } from '../../src/spool/index.ts';
import { decodePayload, encodePayload, HEADER_BYTES } from '../../src/spool/format.ts';
import { batch, captureLogger, drain, numbers, options, range } from './helpers.ts';

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

test('payload encoding round-trips keys, nulls, unicode, headers (repeated and changing) and topics', () => {
  const topics = batch(0, 50, ['a', 'b', 'c']);
  topics.get('a')!.push({ key: '', value: '', headers: {} }, { key: 'k', value: 'x'.repeat(100_000), headers: { only: 'one', 'ä': '✓'.repeat(50) } });
  const { frame, payloadLength } = encodePayload(topics);
  assert.equal(frame.length, HEADER_BYTES + payloadLength);
  assert.deepEqual(decodePayload(frame, HEADER_BYTES, frame.length), topics);
});

test('round trip: append, reopen, replay in order, ack; the cursor survives a reopen; drained segments are deleted', async (t) => {
  const dir = tempDir(t);
  const { log } = captureLogger();
  let spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  for (let b = 0; b < 20; b++) await spool.append(batch(b * 100, 100), 100);
  const before = spool.stats();
  assert.equal(before.entries, 20);
  assert.equal(before.records, 2000);
  assert.ok(before.segments > 3, `several segments (${before.segments})`);
  assert.equal(before.segments, segments(dir).length);
  await spool.close();

  spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  assert.equal(spool.stats().entries, 20);
  // Take 7 entries, ack 5 (two stay in flight), close: the 2 in flight come back after a reopen.
  const taken = [];
  for (let i = 0; i < 7; i++) taken.push((await spool.next())!);
  assert.deepEqual(taken.map((e) => e.seq), range(1, 7));
  assert.deepEqual(numbers(taken[0]!.topics), range(0, 100));
  assert.equal(taken[0]!.records, 100);
  assert.ok(taken[0]!.bytes > 100 * 50);
  for (const e of taken.slice(0, 5)) await spool.ack(e);
  const segsAfterAcks = segments(dir);
  assert.ok(segsAfterAcks.length < before.segments, 'drained segments were deleted');
  await spool.close();

  spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), log);
  assert.equal(spool.stats().entries, 15);
  const rest = await drain(spool);
  assert.deepEqual(rest, range(500, 1500));
  assert.ok(spool.isEmpty);
  assert.equal(spool.stats().segments, 0);
  assert.deepEqual(segments(dir), [], 'every segment deleted once drained');
  await spool.close();

  // Seqs keep growing across a fully drained spool (the cursor remembers), and new appends replay.
  spool = await Spool.open(options(dir), log);
  await spool.append(batch(9000, 3), 3);
  const e = await spool.next();
  assert.equal(e!.seq, 21);
  assert.deepEqual(numbers(e!.topics), [9000, 9001, 9002]);
  await spool.ack(e!);
  await spool.close();
});

test('acks must follow next() order; acking a dropped or acked entry is a no-op', async (t) => {
  const dir = tempDir(t);
  const spool = await Spool.open(options(dir), captureLogger().log);
  t.after(() => spool.close());
  await spool.append(batch(0, 2), 2);
  await spool.append(batch(2, 2), 2);
  const a = (await spool.next())!;
  const b = (await spool.next())!;
  await assert.rejects(spool.ack(b), /acked in order/);
  await spool.ack(a);
  await spool.ack(a);
  await spool.ack(b);
  assert.ok(spool.isEmpty);
  assert.equal(await spool.next(), undefined);
});

test('appends in flight together keep their order; a multi-topic batch comes back whole', async (t) => {
  const dir = tempDir(t);
  const spool = await Spool.open(options(dir, { segmentBytes: 32 * 1024 }), captureLogger().log);
  t.after(() => spool.close());
  await Promise.all(range(0, 50).map((b) => spool.append(batch(b * 10, 10), 10)));
  const multi = batch(1000, 30, ['x', 'y', 'z']);
  await spool.append(multi, 30);
  assert.deepEqual(await drainEntries(spool, 50), range(0, 500));
  const last = (await spool.next())!;
  assert.deepEqual(last.topics, multi);
  await spool.ack(last);
});

async function drainEntries(spool: Spool, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const e = (await spool.next())!;
    out.push(...numbers(e.topics));
    await spool.ack(e);
  }
  return out;
}

test('a torn last write (cut mid-entry) is cut off on open and never replayed', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  let spool = await Spool.open(options(dir), log);
  for (let b = 0; b < 5; b++) await spool.append(batch(b * 10, 10), 10);
  await spool.close();
  const [seg] = segments(dir);
  const path = join(dir, seg!);
  const size = statSync(path).size;
  truncateSync(path, size - 100); // the last entry lost its tail: a crash mid-append

  spool = await Spool.open(options(dir), log);
  const cut = lines.find((l) => l.msg.includes('torn write'));
  assert.ok(cut, 'the cut is logged');
  assert.equal(cut.segment, seg);
  assert.equal(spool.stats().corruptSkipped, 0);
  assert.ok(spool.stats().tornBytesCut > 0);
  // New appends go after the cut, and replay shows exactly the whole entries.
  await spool.append(batch(100, 10), 10);
  assert.deepEqual(await drain(spool), [...range(0, 40), ...range(100, 10)]);
  await spool.close();
});

test('garbage bytes after the last entry are cut off on open, new appends follow', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  let spool = await Spool.open(options(dir), log);
  for (let b = 0; b < 3; b++) await spool.append(batch(b * 10, 10), 10);
  await spool.close();
  const path = join(dir, segments(dir)[0]!);
  const good = statSync(path).size;
  appendFileSync(path, Buffer.concat([Buffer.from('LSP1'), Buffer.alloc(30, 0xab), Buffer.from('random tail bytes that are not a frame')]));

  assert.equal((await verifySpool(dir)).tornTails, 1);
  spool = await Spool.open(options(dir), log);
  assert.equal(statSync(path).size, good, 'cut back to the last whole entry');
  assert.ok(lines.some((l) => l.msg.includes('torn write') && l.offset === good));
  await spool.append(batch(50, 5), 5);
  await spool.close();
  spool = await Spool.open(options(dir), log);
  assert.deepEqual(await drain(spool), [...range(0, 30), ...range(50, 5)]);
  await spool.close();
  assert.equal((await verifySpool(dir)).ok, true);
});

test('a corrupt entry in the middle is skipped, counted and logged with segment and offset; later entries replay', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  let spool = await Spool.open(options(dir), log);
  const offsets: number[] = [];
  let size = 0;
  for (let b = 0; b < 6; b++) {
    offsets.push(size);
    await spool.append(batch(b * 10, 10), 10);
    size = statSync(join(dir, segments(dir)[0]!)).size;
  }
  await spool.close();
  const seg = segments(dir)[0]!;
  const path = join(dir, seg);
  const bytes = readFileSync(path);
  // Entry 2: flip payload bytes. Entry 4: damage its header (the scan must resync to entry 5).
  bytes[offsets[2]! + HEADER_BYTES + 20]! ^= 0xff;
  bytes[offsets[2]! + HEADER_BYTES + 21]! ^= 0x55;
  bytes[offsets[4]! + 9]! ^= 0x01;
  writeFileSync(path, bytes);

  const report = await verifySpool(dir);
  assert.equal(report.ok, false);
  assert.equal(report.corruptEntries, 2);
  assert.deepEqual(report.segments[0]!.corrupt.map((c) => c.offset), [offsets[2], offsets[4]]);

  spool = await Spool.open(options(dir), log);
  assert.equal(spool.stats().corruptSkipped, 2);
  const logged = lines.filter((l) => l.msg.includes('corrupt'));
  assert.deepEqual(logged.map((l) => [l.segment, l.offset]), [[seg, offsets[2]], [seg, offsets[4]]]);
  assert.deepEqual(await drain(spool), [...range(0, 20), 30, ...range(31, 9), ...range(50, 10)]);
  await spool.close();
});

test('an entry damaged after open is skipped when read back, and the cursor moves past it', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  let spool = await Spool.open(options(dir), log);
  await spool.append(batch(0, 10), 10);
  const second = statSync(join(dir, segments(dir)[0]!)).size;
  await spool.append(batch(10, 10), 10);
  await spool.append(batch(20, 10), 10);
  const path = join(dir, segments(dir)[0]!);
  const bytes = readFileSync(path);
  bytes[second + HEADER_BYTES + 5]! ^= 0xff;
  writeFileSync(path, bytes);
  assert.deepEqual(await drain(spool), [...range(0, 10), ...range(20, 10)]);
  assert.equal(spool.stats().corruptSkipped, 1);
  assert.ok(lines.some((l) => l.msg.includes('corrupt entry skipped on replay') && l.offset === second));
  await spool.close();
  spool = await Spool.open(options(dir), log);
  assert.ok(spool.isEmpty);
  await spool.close();
});

test('max_bytes with when_full: block rejects with SpoolFullError; room comes back after acks', async (t) => {
  const dir = tempDir(t);
  const { log } = captureLogger();
  const spool = await Spool.open(options(dir, { maxBytes: 40_000, segmentBytes: 10_000, whenFull: 'block' }), log);
  t.after(() => spool.close());
  let appended = 0;
  let error: unknown;
  for (let b = 0; b < 100 && !error; b++) {
    try {
      await spool.append(batch(b * 10, 10), 10);
      appended++;
    } catch (err) {
      error = err;
    }
  }
  assert.ok(error instanceof SpoolFullError, `got ${String(error)}`);
  assert.equal(error.reason, 'max_bytes');
  assert.ok(spool.stats().diskBytes <= 40_000);
  // Appends queued behind a rejected one are rejected too: the spool holds a prefix of what was appended.
  const results = await Promise.allSettled([spool.append(batch(5000, 10), 10), spool.append(batch(6000, 1), 1)]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);

  const room = spool.whenRoom();
  const e = await drainEntries(spool, 12);
  await room;
  await spool.append(batch(7000, 10), 10);
  const all = [...e, ...(await drain(spool))];
  assert.deepEqual(all, [...range(0, appended * 10), ...range(7000, 10)]);
  await assert.rejects(spool.append(batch(0, 1000), 1000), (err: SpoolFullError) => err.reason === 'entry_too_large');
});

test('max_bytes with when_full: drop_oldest drops the oldest segment whole, counted and logged', async (t) => {
  const dir = tempDir(t);
  const { log, lines } = captureLogger();
  const spool = await Spool.open(options(dir, { maxBytes: 40_000, segmentBytes: 10_000, whenFull: 'drop_oldest' }), log);
  t.after(() => spool.close());
  const inFlight = (await spool.append(batch(0, 10), 10), await spool.next())!;
  for (let b = 1; b < 100; b++) await spool.append(batch(b * 10, 10), 10);
  const s = spool.stats();
  assert.ok(s.diskBytes <= 40_000, `disk bytes ${s.diskBytes}`);
  assert.ok(s.droppedOldest > 0);
  assert.equal(s.droppedRecords, s.droppedOldest * 10);
  assert.equal(s.entries + s.droppedOldest, 100);
  const drop = lines.find((l) => l.msg.includes('drop_oldest'));
  assert.ok(drop);
  assert.equal(drop.first_seq, 1);
  await spool.ack(inFlight); // it was dropped while in flight: a no-op
  const replayed = await drain(spool);
  assert.deepEqual(replayed, range((100 - s.entries) * 10, s.entries * 10), 'the newest entries, in order, without a gap');
});

for (const fsync of ['always', 'batch', 'interval'] as const) {
  test(`fsync: ${fsync} resolves appends and syncs as documented`, async (t) => {
    const dir = tempDir(t);
    const spool = await Spool.open(options(dir, { fsync, fsyncIntervalMs: 50 }), captureLogger().log);
    t.after(() => spool.close());
    await spool.append(batch(0, 10), 10);
    const after1 = spool.stats().fsyncs;
    await Promise.all(range(1, 30).map((b) => spool.append(batch(b * 10, 10), 10)));
    const after31 = spool.stats().fsyncs;
    if (fsync === 'always') {
      assert.equal(after1, 1);
      assert.equal(after31, 31, 'one fdatasync per append');
    } else if (fsync === 'batch') {
      assert.equal(after1, 1);
      assert.ok(after31 - after1 < 30 && after31 > after1, `concurrent appends share fdatasyncs (${after31 - after1} for 30)`);
    } else {
      assert.equal(after1, 0, 'interval: the append resolved before any fdatasync');
      const deadline = Date.now() + 5000;
      while (spool.stats().fsyncs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(spool.stats().fsyncs > 0, 'the timer synced');
    }
    assert.equal(spool.stats().entries, 31);
    assert.deepEqual(await drain(spool), range(0, 310));
  });
}

test('a second process cannot open a spool in use; a stale lock is taken over', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'lock'), '999999999\n'); // no such process
  const spool = await Spool.open(options(dir), captureLogger().log);
  t.after(() => spool.close());
  assert.equal((JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid: number }).pid, process.pid);
});
