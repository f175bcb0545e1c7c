/**
 * The adaptive flush between Batcher and Delivery, wired as the pipeline
 * wires them, against a fake producer whose requests resolve on command:
 * a batch goes as soon as the producer is free, and fills while a request
 * is in flight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from '../../src/batch/batcher.ts';
import type { Batch } from '../../src/batch/types.ts';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import type { BatchProducer } from '../../src/kafka/batch-producer.ts';
import { Delivery } from '../../src/kafka/delivery.ts';
import { Stats } from '../../src/observe/stats.ts';
import { waitFor } from '../support/wait.ts';
import { captureLogger } from '../spool/helpers.ts';

/** Each send() waits until the test acks it (or fails it). */
class ManualProducer implements BatchProducer {
  readonly requests: { values: string[]; ack: () => void; fail: (err: Error) => void }[] = [];

  async connect(): Promise<void> {}

  send(batches: readonly Batch[]): Promise<void> {
    const values = batches.flatMap((b) => [...b.topics.values()].flatMap((records) => records.toMessages().map((m) => m.value)));
    return new Promise((resolve, reject) => this.requests.push({ values, ack: resolve, fail: reject }));
  }

  async close(): Promise<void> {}
}

/** One turn of the event loop: setImmediate callbacks queued before this one have run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `slotRecords` is Delivery's maxRecords, the records an in-flight slot
 * stands for (the batcher's own limit stays 1000, so lines added in one
 * turn make one batch).
 */
function rig({ lingerMs = 60_000, maxInFlight = 4, slotRecords = 1000, whenDurable = () => Promise.resolve() } = {}) {
  const producer = new ManualProducer();
  const stats = new Stats();
  const tracker = new OffsetTracker(0, () => undefined);
  const delivery = new Delivery(
    producer,
    { maxInFlight, maxRecords: slotRecords, maxRequestBytes: 1_000_000, initialBackoffMs: 10, maxBackoffMs: 50, brokers: ['fake:9092'], whenDurable, onFree: () => batcher.sendable() },
    stats,
    captureLogger().log,
    () => undefined,
  );
  const batcher = new Batcher({ maxRecords: 1000, maxBytes: 1_000_000, lingerMs }, (batch) => delivery.submit(batch), () => delivery.idle);
  let offset = 0;
  /** Adds lines named `names`, as one read of a file would. */
  const lines = (...names: string[]): void => {
    for (const name of names) batcher.add('access', { key: null, value: name, headers: {} }, 100, tracker, (offset += 10));
  };
  return { producer, delivery, batcher, tracker, lines, stats };
}

test('an idle producer gets the lines of a read at the end of that turn, not after linger_ms', async () => {
  const { producer, tracker, lines } = rig();
  lines('a1', 'a2', 'a3');
  assert.equal(producer.requests.length, 0, 'not sent line by line');
  await turn();
  assert.deepEqual(producer.requests.map((r) => r.values), [['a1', 'a2', 'a3']]);
  assert.equal(tracker.committed, 0, 'checkpoint only after the ack');
  producer.requests[0]!.ack();
  await waitFor('the ack', () => tracker.committed === 30, 5000, 1);
});

test('while a request is in flight, lines of several reads fill one batch, sent the moment the request is acked', async () => {
  const { producer, tracker, lines, stats } = rig();
  lines('a1');
  await turn();
  assert.equal(producer.requests.length, 1);
  lines('b1', 'b2');
  await turn();
  lines('b3');
  await turn();
  assert.equal(producer.requests.length, 1, 'one request at a time');
  assert.equal(stats.inFlight, 1, 'the open batch is not closed meanwhile');
  producer.requests[0]!.ack();
  await waitFor('the second request', () => producer.requests.length === 2, 5000, 1);
  assert.deepEqual(producer.requests[1]!.values, ['b1', 'b2', 'b3']);
  assert.equal(tracker.committed, 10);
  producer.requests[1]!.ack();
  await waitFor('the second ack', () => tracker.committed === 40, 5000, 1);
});

test('while Kafka is slow, linger_ms still closes the open batch; it goes after the request in flight', async () => {
  const { producer, tracker, lines, stats } = rig({ lingerMs: 30 });
  lines('a1');
  await turn();
  lines('b1');
  await waitFor('the batch closed by linger_ms', () => stats.inFlight === 2, 5000, 1);
  assert.equal(producer.requests.length, 1, 'still one request at a time');
  lines('c1'); // a new batch, open while the others wait
  producer.requests[0]!.ack();
  await waitFor('the next request', () => producer.requests.length === 2, 5000, 1);
  assert.deepEqual(producer.requests[1]!.values, ['b1']);
  producer.requests[1]!.ack();
  await waitFor('the third request', () => producer.requests.length === 3, 5000, 1);
  assert.deepEqual(producer.requests[2]!.values, ['c1']);
  producer.requests[2]!.ack();
  await waitFor('every ack', () => tracker.committed === 30, 5000, 1);
});

test('a failed request keeps its lines first: the batch filled meanwhile goes after their retry, in order', async () => {
  const { producer, tracker, lines } = rig();
  lines('a1');
  await turn();
  lines('b1');
  producer.requests[0]!.fail(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }));
  await waitFor('the retry', () => producer.requests.length === 2, 5000, 1);
  assert.deepEqual(producer.requests[1]!.values, ['a1'], 'the retry carries only what failed');
  producer.requests[1]!.ack();
  await waitFor('the open batch', () => producer.requests.length === 3, 5000, 1);
  assert.deepEqual(producer.requests[2]!.values, ['b1']);
  producer.requests[2]!.ack();
  await waitFor('every ack', () => tracker.committed === 20, 5000, 1);
});

/** A checkpoint store whose saves complete on command. */
function manualSaves() {
  const saves: (() => void)[] = [];
  return { saves, whenDurable: () => new Promise<void>((resolve) => saves.push(resolve)) };
}

test('full batches acked whose checkpoints are not saved yet hold their slots; the next batch goes while a slot stays free', async () => {
  const { saves, whenDurable } = manualSaves();
  const { producer, tracker, lines } = rig({ maxInFlight: 4, slotRecords: 1, whenDurable });
  for (const name of ['a1', 'b1', 'c1']) {
    lines(name);
    await turn();
    assert.equal(producer.requests.length, saves.length + 1, `${name} goes without waiting for the checkpoint save`);
    producer.requests.at(-1)!.ack();
    await waitFor(`the ack of ${name}`, () => saves.length === producer.requests.length, 5000, 1);
  }
  // Three batches wait for their checkpoint: one more would fill the pipeline (4), so the open batch fills instead.
  lines('d1');
  await turn();
  lines('d2');
  await turn();
  assert.equal(producer.requests.length, 3);
  saves.splice(0).forEach((save) => save());
  await waitFor('the open batch', () => producer.requests.length === 4, 5000, 1);
  assert.deepEqual(producer.requests[3]!.values, ['d1', 'd2']);
  producer.requests[3]!.ack();
  await waitFor('every ack', () => tracker.committed === 50, 5000, 1);
  saves.forEach((save) => save());
});

test('with max_in_flight 2, a full batch waiting for its checkpoint keeps the next from going: lines fill one batch until the save', async () => {
  const { saves, whenDurable } = manualSaves();
  const { producer, tracker, lines, stats } = rig({ maxInFlight: 2, slotRecords: 1, whenDurable });
  lines('a1');
  await turn();
  producer.requests[0]!.ack();
  await waitFor('the ack', () => tracker.committed === 10, 5000, 1);
  assert.equal(saves.length, 1, 'waiting for its checkpoint');
  lines('b1');
  await turn();
  lines('b2');
  await turn();
  assert.equal(producer.requests.length, 1, 'no small batch per read while the checkpoint is not on disk');
  assert.equal(stats.inFlight, 0);
  saves[0]!();
  await waitFor('the next request', () => producer.requests.length === 2, 5000, 1);
  assert.deepEqual(producer.requests[1]!.values, ['b1', 'b2']);
  producer.requests[1]!.ack();
  await waitFor('the second ack', () => tracker.committed === 30, 5000, 1);
  saves[1]!();
});

test('small batches acked during a stalled checkpoint save take a fraction of a slot each: the next batches still go at once', async () => {
  const { saves, whenDurable } = manualSaves();
  // Each batch below is 1 record and a slot is 4: a batch goes at once while the acked records waiting for their save leave 2 of the 4 slots free.
  const { producer, tracker, lines, delivery } = rig({ maxInFlight: 4, slotRecords: 4, whenDurable });
  for (let i = 1; i <= 9; i++) {
    lines(`a${i}`);
    await turn();
    assert.equal(producer.requests.length, i, `a${i} goes at once though ${i - 1} saves are pending`);
    producer.requests.at(-1)!.ack();
    await waitFor(`the ack of a${i}`, () => saves.length === i, 5000, 1);
  }
  assert.equal(delivery.full, false, '9 records of 16 in flight: reading goes on');
  // 9 records take 2.25 slots: the next batch would leave less than a slot free, so the open batch fills instead.
  lines('b1');
  await turn();
  lines('b2');
  await turn();
  assert.equal(producer.requests.length, 9);
  saves.splice(0).forEach((save) => save());
  await waitFor('the open batch', () => producer.requests.length === 10, 5000, 1);
  assert.deepEqual(producer.requests[9]!.values, ['b1', 'b2']);
  producer.requests[9]!.ack();
  await waitFor('every ack', () => tracker.committed === 110, 5000, 1);
  saves.forEach((save) => save());
});
