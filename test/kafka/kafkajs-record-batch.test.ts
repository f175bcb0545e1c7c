/**
 * kafkajs' Produce request encoder as patched (patches/kafkajs+2.2.4.patch):
 * each partition's record batch is written in one pass into one buffer. The
 * requests it builds are read back with kafkajs' own record-batch decoder
 * (the fetch path, unpatched) and their CRC checked with the portable CRC-32C,
 * so a wrong size, offset, varint or checksum fails here before a broker.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { EncodedRecords, fileHeaders } from '../../src/batch/encoded-records.ts';

const require = createRequire(import.meta.url);

interface Encoded { buffer: Buffer; size(): number }
interface DecoderT { readInt16(): number; readInt32(): number; readString(): string | null; readInt64(): { toString(): string }; offset: number }
interface DecodedRecord { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]>; offset: string; timestamp: string }
interface DecodedBatch { firstSequence: number; producerId: string; producerEpoch: number; lastOffsetDelta: number; firstTimestamp: string; maxTimestamp: string; inTransaction: boolean; records: DecodedRecord[] }
type Produce = (args: object) => { request: { encode(): Promise<Encoded> } };

const produce = (require('kafkajs/src/protocol/requests/produce/index.js') as { protocol(o: { version: number }): Produce }).protocol({ version: 7 });
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => DecoderT;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: DecoderT) => Promise<DecodedBatch>;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
const portableCrc = (require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as { portable: (b: Buffer) => number }).portable;
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: number): unknown };

interface Message { key?: string | Buffer | null; value: string | Buffer | null; headers?: Record<string, string | Buffer | (string | Buffer)[]>; timestamp?: number | string }

/** Reads a Produce v3-v7 request body back: per topic and partition, the decoded batch and whether its CRC holds. */
async function readRequest(body: Buffer) {
  const d = new Decoder(body);
  d.readString(); // transactional id
  d.readInt16(); // acks
  d.readInt32(); // timeout
  const out: { topic: string; partition: number; batch: DecodedBatch; crcOk: boolean }[] = [];
  for (let topics = d.readInt32(); topics > 0; topics--) {
    const topic = d.readString()!;
    for (let partitions = d.readInt32(); partitions > 0; partitions--) {
      const partition = d.readInt32();
      const size = d.readInt32();
      const bytes = body.subarray(d.offset, d.offset + size);
      d.offset += size;
      const crcOk = bytes.readUInt32BE(17) === portableCrc(bytes.subarray(21));
      out.push({ topic, partition, batch: await decodeBatch(new Decoder(bytes)), crcOk });
    }
  }
  assert.equal(d.offset, body.length, 'the request has no trailing bytes');
  return out;
}

const asText = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
const expected = (v: string | Buffer | null | undefined) => (v == null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : v);

function messages(count: number, seed: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const n = (i * 7919 + seed) % 97;
    out.push({
      key: n % 5 === 0 ? null : n % 5 === 1 ? Buffer.from(`k${i}`) : `key-é-${i}`,
      value: n === 13 ? null : `{"i":${i},"text":"${'x😀é'.repeat(n)}"}`,
      headers: n % 3 === 0 ? {} : { 'logship-id': `a:b:${i * 180}`, 'logship-host': n % 2 ? Buffer.from('gw-1') : 'gw-é', multi: ['one', Buffer.from('two')] },
      ...(n % 4 === 0 ? { timestamp: 1763800000000 + n * 1000 } : {}),
    });
  }
  return out;
}

for (const [name, compression] of [['uncompressed', Types.None], ['gzip', Types.GZIP]] as const) {
  test(`patched kafkajs encoder, ${name}: kafkajs' decoder reads back every record, header, offset and timestamp; the CRC holds`, async () => {
    const data = [
      { topic: 'a', partitions: [{ partition: 0, firstSequence: 17, messages: messages(600, 1) }, { partition: 2, firstSequence: 0, messages: messages(1, 2) }] },
      { topic: 'b-é', partitions: [{ partition: 5, firstSequence: 3, messages: messages(40, 3) }] },
    ];
    const before = Date.now();
    const encoded = await produce({ acks: -1, timeout: 30000, compression, topicData: data, transactionalId: 'tx', producerId: Long.fromValue(42), producerEpoch: 3 }).request.encode();
    const batches = await readRequest(encoded.buffer);
    assert.deepEqual(batches.map((b) => [b.topic, b.partition]), [['a', 0], ['a', 2], ['b-é', 5]]);
    for (const [i, { batch, crcOk }] of batches.entries()) {
      const sent = data.flatMap((t) => t.partitions)[i]!;
      assert.ok(crcOk, `batch ${i}: CRC-32C over attributes..end`);
      assert.equal(batch.firstSequence, sent.firstSequence);
      assert.equal(batch.producerId, '42');
      assert.equal(batch.producerEpoch, 3);
      assert.equal(batch.inTransaction, true);
      assert.equal(batch.lastOffsetDelta, sent.messages.length - 1);
      const stamps = sent.messages.flatMap((m) => (m.timestamp === undefined ? [] : [Number(m.timestamp)]));
      if (stamps.length > 0) {
        assert.equal(batch.firstTimestamp, String(Math.min(...stamps)));
        assert.equal(batch.maxTimestamp, String(Math.max(...stamps)));
      } else {
        assert.ok(Number(batch.firstTimestamp) >= before && Number(batch.firstTimestamp) <= Date.now());
      }
      assert.equal(batch.records.length, sent.messages.length);
      for (const [j, record] of batch.records.entries()) {
        const m = sent.messages[j]!;
        assert.equal(record.offset, String(j));
        assert.equal(asText(record.key), expected(m.key));
        assert.equal(asText(record.value), expected(m.value));
        if (m.timestamp !== undefined) assert.equal(record.timestamp, String(m.timestamp));
        const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(asText) : asText(v)]));
        const want = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(expected) : expected(v)]));
        assert.deepEqual(headers, want, `record ${j} headers`);
      }
    }
  });
}

test('CRC-32C: the native and portable implementations agree with the check value and each other', () => {
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  const bytes = Buffer.alloc(10_007);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 4096, 10_007]) assert.equal(crc32C(bytes.subarray(0, n)), portableCrc(bytes.subarray(0, n)), `${n} bytes`);
});

for (const stamped of [false, true]) {
  test(`records already encoded by logship (EncodedRecords), whole or one by one, beside plain messages${stamped ? ' with their own timestamps' : ''}: kafkajs' decoder reads each back at its offset and time`, async () => {
    const lines = new EncodedRecords();
    const headers = fileHeaders('logship-id', '2049:77:ab12:', [['logship-host', 'gw-é'], ['logship-path', '/var/log/nginx/access.log']]);
    const values: string[] = [];
    for (let i = 0; i < 300; i++) {
      // Lengths across the 1- and 2-byte varint boundaries, ASCII and not.
      const value = `{"i":${i},"t":"${(i % 3 === 0 ? 'é😀' : 'x').repeat(i % 90)}"}`;
      values.push(value);
      lines.addLine(i % 7 === 0 ? `k-é-${i}` : null, value, undefined, i % 11 === 0 ? undefined : headers, i * 187);
    }
    const plain = messages(5, 9).map(({ timestamp, ...m }) => (stamped ? { ...m, timestamp } : m));
    const others = EncodedRecords.of(['a', 'b', 'c'].map((value) => ({ key: null, value, headers: { h: value } })));
    // In place (offsets 0-119), then at other offsets: after plain messages, and a second set's records.
    const mixed = [
      { key: null, value: null, encoded: lines, from: 0, to: 120 },
      ...plain,
      { key: null, value: null, encoded: lines, from: 120, to: 121 },
      { key: null, value: null, encoded: others, from: 0, to: 3 },
      { key: null, value: null, encoded: lines, from: 121, to: 300 },
      { key: null, value: null, encoded: others, from: 3, to: 3 },
    ];
    for (const compression of [Types.None, Types.GZIP]) {
      const before = Date.now();
      const encoded = await produce({ acks: -1, timeout: 30000, compression, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: mixed }] }] }).request.encode();
      const [read] = await readRequest(encoded.buffer);
      assert.ok(read!.crcOk);
      const records = read!.batch.records;
      assert.equal(records.length, 120 + plain.length + 1 + 3 + 179);
      assert.equal(read!.batch.lastOffsetDelta, records.length - 1);
      records.forEach((r, j) => assert.equal(r.offset, String(j)));
      const fromLines = [...records.slice(0, 120), records[120 + plain.length]!, ...records.slice(120 + plain.length + 4)];
      fromLines.forEach((r, i) => {
        assert.equal(asText(r.value), values[i]);
        assert.equal(asText(r.key), i % 7 === 0 ? `k-é-${i}` : null);
        assert.ok(Number(r.timestamp) >= before && Number(r.timestamp) <= Date.now(), `record ${i}: the time of the batch`);
        const want = i % 11 === 0 ? {} : { 'logship-id': `2049:77:ab12:${i * 187}`, 'logship-host': 'gw-é', 'logship-path': '/var/log/nginx/access.log' };
        assert.deepEqual(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, asText(v as Buffer)])), want, `record ${i}`);
      });
      assert.equal(asText(records[120]!.value), plain[0]!.value);
      assert.deepEqual(records.slice(121 + plain.length, 124 + plain.length).map((r) => asText(r.value)), ['a', 'b', 'c']);
      assert.deepEqual(lines.toMessages().map((m) => m.value), values);
    }
  });
}

test('a whole Produce request as the connection writes it: size, api key, version, correlation id and client id in front of a body that reads back', async () => {
  const encodeRequest = require('kafkajs/src/protocol/request.js') as (args: object) => Promise<{ buffer: Buffer }>;
  const records = EncodedRecords.of([{ key: null, value: '{"a":1}', headers: { h: 'v' } }]);
  for (const clientId of ['logship', 'c'.repeat(600)]) {
    const request = produce({ acks: -1, timeout: 30000, compression: Types.None, topicData: [{ topic: 't', partitions: [{ partition: 3, firstSequence: 0, messages: [{ key: null, value: null, encoded: records, from: 0, to: 1 }] }] }] }).request;
    const { buffer } = await encodeRequest({ correlationId: 77, clientId, request });
    const d = new Decoder(buffer);
    assert.equal(d.readInt32(), buffer.length - 4);
    assert.equal(d.readInt16(), 0, 'api key Produce');
    assert.equal(d.readInt16(), 7);
    assert.equal(d.readInt32(), 77);
    assert.equal(d.readString(), clientId);
    const [read] = await readRequest(buffer.subarray(d.offset));
    assert.equal(read!.partition, 3);
    assert.equal(asText(read!.batch.records[0]!.value), '{"a":1}');
  }
});
