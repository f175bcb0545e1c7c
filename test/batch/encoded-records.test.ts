import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArenaPool, EncodedRecords, fileHeaders } from '../../src/batch/encoded-records.ts';
import { recordId, recordIdPrefix, recordJson, sourceTail } from '../../src/encode/record-json.ts';
import type { LogRecord } from '../../src/parse/types.ts';

test('records written from lines read back as the messages they stand for: key, value (with the source tail in place of its brace), and the id header with each line offset', () => {
  const records = new EncodedRecords();
  const headers = fileHeaders('logship-id', recordIdPrefix('2049:42:9f1c'), [['logship-host', 'gw-1'], ['logship-path', '/var/log/nginx/ac€ess.log']]);
  const tail = Buffer.from(sourceTail('{"path":"/var/log/ä"}'));
  const offsets = [0, 9, 10, 187, 99_999, 2 ** 40 + 7];
  // Values from 7 bytes to past 8 KiB: their length varints take 1, 2 and 3 bytes.
  const json = (i: number) => `{"n":${i},"ua":"${'é'.repeat(i === 5 ? 5000 : i ** 4)}"}`;
  offsets.forEach((offset, i) => records.addLine(i === 2 ? 'key-ü' : null, json(i), i % 2 ? tail : undefined, i === 3 ? undefined : headers, offset));
  const messages = records.toMessages();
  assert.equal(records.count, offsets.length);
  messages.forEach((m, i) => {
    assert.equal(m.value, i % 2 ? recordJson(JSON.parse(json(i)) as LogRecord, '{"path":"/var/log/ä"}') : json(i));
    assert.equal(m.key, i === 2 ? 'key-ü' : null);
    assert.deepEqual(m.headers, i === 3 ? {} : { 'logship-id': recordId('2049:42:9f1c', offsets[i]!), 'logship-host': 'gw-1', 'logship-path': '/var/log/nginx/ac€ess.log' });
  });
});

test('records past the first buffer grow it and keep every record; of() and toMessages() are inverse', () => {
  const messages = Array.from({ length: 3000 }, (_, i) => ({ key: i % 2 ? `k${i}` : null, value: 'v'.repeat(i % 200) + i, headers: { h: String(i) } }));
  const records = EncodedRecords.of(messages);
  assert.ok(records.buf.length > 16 * 1024);
  assert.deepEqual(records.toMessages(), messages);
  assert.deepEqual(records.keys?.slice(0, 3), [null, 'k1', null]);
});

test("a pool's buffer goes back on release and serves the next records; one grown past the pool's size does not", () => {
  const pool = new ArenaPool(1024, 1);
  const first = new EncodedRecords(pool);
  const buffer = first.buf;
  first.addMessage({ key: null, value: 'x', headers: {} });
  first.release();
  const second = new EncodedRecords(pool);
  assert.equal(second.buf, buffer, 'reused');
  assert.equal(second.count, 0);
  second.addMessage({ key: null, value: 'y'.repeat(4000), headers: {} });
  assert.notEqual(second.buf, buffer, 'grown');
  second.release();
  assert.notEqual(new EncodedRecords(pool).buf.length, second.buf.length);
});

test("eachValue gives each record's value as bytes with its headers, from a copy: the pool's buffer may serve the next records meanwhile", () => {
  const pool = new ArenaPool(64 * 1024, 1);
  const messages = Array.from({ length: 300 }, (_, i) => ({ key: i % 3 ? null : `k${i}`, value: `{"n":${i},"é":"${'ü'.repeat(i % 7)}"}`, headers: { 'logship-id': `f:${i}`, 'logship-host': 'h' } }));
  const records = new EncodedRecords(pool);
  for (const m of messages) records.addMessage(m);
  const seen: { value: Buffer; headers: Record<string, string> }[] = [];
  records.eachValue((value, headers) => seen.push({ value, headers }));
  records.release();
  const next = new EncodedRecords(pool);
  for (let i = 0; i < 300; i++) next.addMessage({ key: null, value: 'x'.repeat(100), headers: {} }); // overwrites the buffer they came from
  assert.equal(seen.length, messages.length);
  assert.deepEqual(
    seen.map((s) => ({ value: s.value.toString('utf8'), headers: s.headers })),
    messages.map((m) => ({ value: m.value, headers: m.headers })),
  );
});
