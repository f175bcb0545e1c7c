/**
 * Delivery's retry and spool policy without a broker: a fake BatchProducer
 * that fails or takes requests on command, beside a real spool on real
 * files (and a real small filesystem for ENOSPC). What reaches "Kafka" is
 * checked record by record: every record once, in order.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Batch } from '../../src/batch/types.ts';
import { messagesByTopic, recordsByTopic } from '../../src/batch/encoded-records.ts';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import type { BatchProducer } from '../../src/kafka/batch-producer.ts';
import { Delivery, type DeliveryOptions } from '../../src/kafka/delivery.ts';
import { Stats } from '../../src/observe/stats.ts';
import { Spool } from '../../src/spool/index.ts';
import { tempDir } from '../support/agent.ts';
import { smallFilesystem } from '../support/small-fs.ts';
import { waitFor } from '../support/wait.ts';
import { batch, captureLogger, numbers, options, range, type CapturedLog } from '../spool/helpers.ts';

/** A broker on command: `accepting` decides whether send() succeeds; what it took is kept. */
class FakeProducer implements BatchProducer {
  accepting = true;
  /** Requests taken, in order: record numbers (read at once: a delivered batch's buffers are reused). */
  readonly taken: number[][] = [];
  /** When each send() was called (ms, performance.now()). */
  readonly calls: number[] = [];
  failures = 0;

  async connect(): Promise<void> {}

  async send(batches: readonly Batch[]): Promise<void> {
    this.calls.push(performance.now());
    await new Promise((resolve) => setImmediate(resolve));
    if (!this.accepting) {
      this.failures++;
      throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9'), { name: 'KafkaJSConnectionError' });
    }
    this.taken.push(batches.flatMap((b) => numbers(messagesByTopic(b.topics))));
  }

  async close(): Promise<void> {}

  /** Record numbers as Kafka took them. */
  delivered(): number[] {
    return this.taken.flat();
  }
}

interface Rig {
  producer: FakeProducer;
  delivery: Delivery;
  stats: Stats;
  lines: CapturedLog[];
  tracker: OffsetTracker;
  /** Submits batch number `n` (records n*10 .. n*10+9); its lines end at offset (n+1)*1000. */
  submit(n: number): void;
}

function rig(extra: Partial<DeliveryOptions> = {}): Rig {
  const producer = new FakeProducer();
  const stats = new Stats();
  const { log, lines } = captureLogger();
  const tracker = new OffsetTracker(0, () => undefined);
  const delivery = new Delivery(
    producer,
    { maxInFlight: 4, maxRecords: 1000, maxRequestBytes: 1_000_000, initialBackoffMs: 20, maxBackoffMs: 200, brokers: ['fake:9092'], whenDurable: () => Promise.resolve(), ...extra },
    stats,
    log,
    () => undefined,
  );
  const submit = (n: number): void => {
    const topics = recordsByTopic(batch(n * 10, 10));
    const offset = (n + 1) * 1000;
    delivery.submit({ seq: n, topics, records: 10, bytes: 10 * 200, marks: [{ tracker, offset, ticket: tracker.issue(offset), input: undefined, sent: 10 }] });
  };
  return { producer, delivery, stats, lines, tracker, submit };
}

/** Fills the filesystem of `dir` with another tenant's file until ENOSPC; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'other-tenant');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 7);
  try {
    while (true) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

test('no spool: a failing request is retried with growing, jittered waits until Kafka takes it; order kept, in-flight back to 0', async () => {
  const { producer, delivery, stats, tracker, submit } = rig();
  producer.accepting = false;
  for (let n = 0; n < 3; n++) submit(n);
  await waitFor('five failed tries', () => producer.failures >= 5, 10_000, 5);
  assert.equal(delivery.failing, true);
  assert.equal(delivery.spoolAccepting, false);
  assert.equal(stats.inFlight, 3, 'every batch waits');
  assert.equal(tracker.committed, 0, 'nothing settled');
  // Waits of initial 20 ms doubling (half fixed, half random): at least 10, 20, 40, 80 ms.
  const gaps = producer.calls.slice(1, 5).map((at, i) => at - producer.calls[i]!);
  gaps.forEach((gap, i) => assert.ok(gap >= 10 * 2 ** i - 2, `wait ${i} was ${gap.toFixed(1)} ms, at least ${10 * 2 ** i} expected (${gaps.map((g) => g.toFixed(0)).join(', ')})`));

  producer.accepting = true;
  await waitFor('all taken', () => producer.delivered().length === 30, 5_000, 5);
  assert.deepEqual(producer.delivered(), range(0, 30));
  assert.equal(producer.taken.length, 1, 'the three batches waiting went out in one request');
  assert.equal(delivery.failing, false);
  assert.equal(stats.inFlight, 0);
  assert.equal(tracker.committed, 3000);
  assert.equal(stats.counters.batches_sent, 3);
  assert.equal(stats.counters.batch_send_errors, producer.failures);
  assert.equal(stats.errors.get('unreachable'), producer.failures);
});

test('with a spool: batches go to disk while Kafka fails; replay sends them oldest first, newer ones queue behind, then straight to Kafka again', async (t) => {
  const dir = tempDir(t);
  const spool = await Spool.open(options(dir), captureLogger().log);
  t.after(() => spool.close());
  const { producer, delivery, stats, lines, tracker, submit } = rig();
  delivery.attachSpool(spool, true);
  producer.accepting = false;
  for (let n = 0; n < 6; n++) submit(n);
  await waitFor('six batches spooled', () => stats.counters.batches_spooled === 6, 10_000, 5);
  assert.equal(tracker.committed, 6000, 'spooled batches are settled');
  assert.equal(stats.inFlight, 0);
  assert.equal(delivery.failing, true);
  assert.equal(delivery.spoolAccepting, true, 'ready: the spool takes the batches');
  assert.ok(lines.some((l) => l.msg.includes('spooling to disk until it works again')));

  producer.accepting = true;
  submit(6); // the spool holds older ones: this one goes behind them
  await waitFor('spool drained', () => lines.some((l) => l.msg.includes('spool drained')), 10_000, 5);
  submit(7);
  await waitFor('everything taken', () => producer.delivered().length === 80, 5_000, 5);
  assert.deepEqual(producer.delivered(), range(0, 80));
  assert.equal(stats.counters.batches_spooled, 7, 'batch 7 went straight to Kafka');
  assert.equal(stats.counters.batches_replayed, 7);
  assert.ok(spool.isEmpty);
  assert.equal(stats.inFlight, 0);
  assert.equal(tracker.committed, 8000);
});

test('an empty spool that cannot take batches (disk full for another reason) is bypassed: they go straight to Kafka once it takes them', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const spool = await Spool.open(options(join(mnt, 'spool')), captureLogger().log);
  t.after(() => spool.close());
  fillDisk(mnt);
  const { producer, delivery, stats, lines, tracker, submit } = rig();
  delivery.attachSpool(spool, true);
  producer.accepting = false;
  for (let n = 0; n < 4; n++) submit(n);
  await waitFor('the spool refused them and Kafka was tried again', () => (stats.errors.get('spool_full') ?? 0) >= 2 && producer.failures >= 3, 10_000, 5);
  assert.equal(delivery.failing, true);
  assert.equal(delivery.spoolAccepting, false, 'not ready: neither Kafka nor the spool takes batches');
  assert.equal(delivery.full, true, 'reading pauses');
  assert.ok(lines.some((l) => l.msg.includes('spool full (disk_full)')));
  assert.ok(lines.some((l) => l.msg.includes('holds none: trying Kafka with them directly')));

  producer.accepting = true;
  await waitFor('taken by Kafka', () => producer.delivered().length === 40, 5_000, 5);
  assert.deepEqual(producer.delivered(), range(0, 40));
  assert.equal(stats.counters.batches_spooled, 0);
  assert.equal(tracker.committed, 4000);
  assert.equal(delivery.full, false);
  // New batches go straight to Kafka while it works, the spool still full.
  submit(4);
  await waitFor('the next batch', () => producer.delivered().length === 50, 5_000, 5);
  assert.equal(stats.counters.batches_spooled, 0);
});

test('space freed by another tenant of the filesystem wakes a refused spool at once, not after the backoff', async (t) => {
  const mnt = smallFilesystem(t, 1 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const spool = await Spool.open(options(join(mnt, 'spool')), captureLogger().log);
  t.after(() => spool.close());
  const tenant = fillDisk(mnt);
  // Backoff from 20 s: a retry on the timer alone would come far too late for this test.
  const { producer, delivery, stats, lines, tracker, submit } = rig({ initialBackoffMs: 20_000, maxBackoffMs: 60_000 });
  t.after(() => delivery.drain(0));
  delivery.attachSpool(spool, true);
  producer.accepting = false;
  for (let n = 0; n < 3; n++) submit(n);
  await waitFor('refused by the full disk', () => (stats.errors.get('spool_full') ?? 0) >= 1, 5_000, 5);
  const freed = performance.now();
  unlinkSync(tenant);
  await waitFor('spooled once there is room', () => stats.counters.batches_spooled === 3, 5_000, 5);
  t.diagnostic(`spooled ${Math.round(performance.now() - freed)} ms after the other tenant freed the disk`);
  assert.equal(tracker.committed, 3000);
  assert.ok(lines.some((l) => l.msg === 'the spool takes batches again'));
  assert.equal(delivery.spoolAccepting, true);
});
