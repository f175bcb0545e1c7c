import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import { TailedFile, type LineLimits } from '../../src/tail/tailed-file.ts';
import type { FileSource } from '../../src/tail/types.ts';
import { tempDir } from '../support/agent.ts';
import { RecordingSink, seen } from '../support/tailer-harness.ts';

const counter = { long: [] as boolean[], longLine(_f: FileSource, truncated: boolean) { this.long.push(truncated); } };

async function tailed(t: { after(fn: () => void): void }, content: string) {
  const path = join(tempDir(t), 'access.log');
  writeFileSync(path, content);
  const handle = await open(path, 'r');
  t.after(() => void handle.close());
  const file = new TailedFile('k', 'k', path, handle, 0, new OffsetTracker(0, () => undefined), {});
  return { path, file };
}

const limits: LineLimits = { maxLineBytes: 64, truncate: true };

test('complete lines are read with exact offsets; a partial last line waits for its newline', async (t) => {
  const { path, file } = await tailed(t, 'one\ntwo\r\nthr');
  const sink = new RecordingSink();
  const buf = Buffer.alloc(1024);
  assert.equal(await file.read(buf, sink, limits, counter), 'eof');
  assert.deepEqual(sink.lines.map(seen), [
    { text: 'one', lineOffset: 0, nextOffset: 4, truncated: false },
    { text: 'two', lineOffset: 4, nextOffset: 9, truncated: false },
  ]);
  assert.equal(file.position, 9);
  appendFileSync(path, 'ee\n');
  assert.equal(await file.read(buf, sink, limits, counter), 'eof');
  assert.deepEqual(seen(sink.lines[2]!), { text: 'three', lineOffset: 9, nextOffset: 15, truncated: false });
});

test('a line longer than max_line_bytes is truncated (or skipped) and the next line is intact', async (t) => {
  const long = 'x'.repeat(5000);
  for (const truncate of [true, false]) {
    const { file } = await tailed(t, `a\n${long}\nb\n`);
    const sink = new RecordingSink();
    // A buffer smaller than the line forces the long-line path across reads.
    await file.read(Buffer.alloc(256), sink, { maxLineBytes: 100, truncate }, counter);
    const expected = truncate ? ['a', 'x'.repeat(100), 'b'] : ['a', 'b'];
    assert.deepEqual(sink.lines.map((l) => l.text), expected);
    assert.equal(sink.lines.at(-1)!.lineOffset, 2 + 5001);
    assert.equal(file.position, 2 + 5001 + 2);
  }
  assert.deepEqual(counter.long, [true, false]);
});

test('when the sink is full reading stops after that line and resumes exactly there', async (t) => {
  const lines = Array.from({ length: 50 }, (_, i) => `line-${i}`);
  const { file } = await tailed(t, lines.join('\n') + '\n');
  const sink = new RecordingSink();
  sink.capacity = 7;
  const buf = Buffer.alloc(1024);
  assert.equal(await file.read(buf, sink, limits, counter), 'full');
  assert.equal(sink.lines.length, 7);
  sink.capacity = Infinity;
  assert.equal(await file.read(buf, sink, limits, counter), 'eof');
  assert.deepEqual(sink.lines.map((l) => l.text), lines);
});

test('flushPartial ships a last line without newline; later bytes come as a line of their own', async (t) => {
  const { path, file } = await tailed(t, 'done\nhalf');
  const sink = new RecordingSink();
  const buf = Buffer.alloc(1024);
  await file.read(buf, sink, limits, counter);
  assert.ok(file.hasPartial);
  file.flushPartial(sink, limits);
  appendFileSync(path, '-more\n');
  await file.read(buf, sink, limits, counter);
  assert.deepEqual(sink.lines.map((l) => [l.text, l.lineOffset, l.nextOffset]), [['done', 0, 5], ['half', 5, 9], ['-more', 9, 15]]);
});
