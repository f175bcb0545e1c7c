import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from '../../src/batch/batcher.ts';
import type { Batch } from '../../src/batch/types.ts';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';

const message = (value: string) => ({ key: null, value, headers: {} });

function collect(limits: { maxRecords?: number; maxBytes?: number; lingerMs?: number }) {
  const batches: Batch[] = [];
  const batcher = new Batcher({ maxRecords: 1000, maxBytes: 1 << 20, lingerMs: 60_000, ...limits }, (b) => batches.push(b));
  return { batches, batcher };
}

test('a batch closes at max_records', () => {
  const { batches, batcher } = collect({ maxRecords: 3 });
  const tracker = new OffsetTracker(0, () => undefined);
  for (let i = 1; i <= 7; i++) batcher.add('t', message(`m${i}`), 2, tracker, i * 10);
  assert.deepEqual(batches.map((b) => b.records), [3, 3]);
  batcher.flush();
  assert.deepEqual(batches.map((b) => b.records), [3, 3, 1]);
  assert.deepEqual(batches.map((b) => b.marks.map((m) => m.offset)), [[30], [60], [70]]);
});

test('a batch closes before it would pass max_bytes', () => {
  const { batches, batcher } = collect({ maxBytes: 10 });
  const tracker = new OffsetTracker(0, () => undefined);
  batcher.add('t', message('aaaa'), 4, tracker, 1);
  batcher.add('t', message('bbbb'), 4, tracker, 2);
  batcher.add('t', message('cccc'), 4, tracker, 3);
  batcher.flush();
  assert.deepEqual(batches.map((b) => b.topics.get('t')!.toMessages().map((m) => m.value)), [['aaaa', 'bbbb'], ['cccc']]);
});

test('a batch closes after linger_ms even when not full', async () => {
  const { batches, batcher } = collect({ lingerMs: 20 });
  batcher.add('t', message('x'), 1, new OffsetTracker(0, () => undefined), 5);
  assert.equal(batches.length, 0);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => batches.length > 0 && (clearInterval(check), resolve()), 5);
  });
  assert.equal(batches[0]!.records, 1);
});

test('one batch carries several topics and one mark per file, issued in order', () => {
  const { batches, batcher } = collect({});
  const fileA = new OffsetTracker(0, () => undefined);
  const fileB = new OffsetTracker(0, () => undefined);
  batcher.add('main', message('a1'), 2, fileA, 10);
  batcher.add('dead', message('a2'), 2, fileA, 20);
  batcher.add('main', message('b1'), 2, fileB, 7);
  batcher.skip(fileA, 30);
  batcher.flush();
  const [batch] = batches;
  assert.deepEqual([...batch!.topics.keys()], ['main', 'dead']);
  assert.deepEqual(batch!.topics.get('main')!.toMessages().map((m) => m.value), ['a1', 'b1']);
  assert.deepEqual(batch!.marks.map((m) => [m.tracker === fileA ? 'A' : 'B', m.offset]), [['A', 30], ['B', 7]]);
  assert.equal(fileA.pending, 1);
  fileA.ack(batch!.marks[0]!.ticket);
  assert.equal(fileA.committed, 30);
});

// ---------------------------------------------------------------- adaptive: when the producer is idle, batches go at the end of the turn

/** One turn of the event loop: setImmediate callbacks queued before this one have run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function adaptive(idle: () => boolean, limits: { maxRecords?: number; lingerMs?: number } = {}) {
  const batches: Batch[] = [];
  const batcher = new Batcher({ maxRecords: 1000, maxBytes: 1 << 20, lingerMs: 60_000, ...limits }, (b) => batches.push(b), idle);
  return { batches, batcher, tracker: new OffsetTracker(0, () => undefined) };
}

test('producer idle: the lines of one turn go as one batch at its end, without waiting for linger_ms', async () => {
  const { batches, batcher, tracker } = adaptive(() => true);
  for (let i = 1; i <= 5; i++) batcher.add('t', message(`m${i}`), 2, tracker, i * 10);
  assert.equal(batches.length, 0, 'not closed line by line');
  await turn();
  assert.deepEqual(batches.map((b) => b.records), [5]);
  assert.equal(batcher.hasOpenBatch, false);
  batcher.add('t', message('m6'), 2, tracker, 60);
  await turn();
  assert.deepEqual(batches.map((b) => b.marks[0]!.offset), [50, 60]);
});

test('producer busy: the open batch fills over several turns and goes when sendable() says the producer is free', async () => {
  let idle = false;
  const { batches, batcher, tracker } = adaptive(() => idle);
  batcher.add('t', message('m1'), 2, tracker, 10);
  await turn();
  batcher.add('t', message('m2'), 2, tracker, 20);
  await turn();
  batcher.add('t', message('m3'), 2, tracker, 30);
  await turn();
  assert.equal(batches.length, 0);
  idle = true;
  batcher.sendable();
  assert.deepEqual(batches.map((b) => b.topics.get('t')!.toMessages().map((m) => m.value)), [['m1', 'm2', 'm3']]);
  batcher.sendable(); // nothing open: nothing to send
  assert.equal(batches.length, 1);
});

test('producer busy: a full batch still closes at once', () => {
  const { batches, batcher, tracker } = adaptive(() => false, { maxRecords: 2 });
  for (let i = 1; i <= 5; i++) batcher.add('t', message(`m${i}`), 2, tracker, i);
  assert.deepEqual(batches.map((b) => b.records), [2, 2]);
  batcher.flush();
});

test('producer busy for long: linger_ms still bounds how long a batch stays open', async () => {
  const { batches, batcher, tracker } = adaptive(() => false, { lingerMs: 20 });
  const opened = performance.now();
  batcher.add('t', message('m1'), 2, tracker, 10);
  await turn();
  assert.equal(batches.length, 0);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => batches.length > 0 && (clearInterval(check), resolve()), 5);
  });
  assert.equal(batches[0]!.records, 1);
  assert.ok(performance.now() - opened >= 19, 'closed by the linger timer, not before');
});

test('without an idle probe, a batch waits for linger_ms (or to be full) as before', async () => {
  const { batches, batcher } = collect({});
  batcher.add('t', message('x'), 1, new OffsetTracker(0, () => undefined), 5);
  await turn();
  batcher.sendable();
  assert.equal(batches.length, 0);
  batcher.flush();
  assert.equal(batches.length, 1);
});
