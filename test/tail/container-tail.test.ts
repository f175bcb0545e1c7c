import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import { ContainerLineSink, type ContainerMode } from '../../src/tail/container/index.ts';
import { TailedFile, type LineLimits } from '../../src/tail/tailed-file.ts';
import { tempDir } from '../support/agent.ts';
import { RecordingSink, seen } from '../support/tailer-harness.ts';
import { containerd, docker, longAccessLine, physicalLines, RUNTIME_SPLIT } from './fixtures/container-runtime.ts';


const counter = { longLine() {} };
// Physical lines are at most 16 KiB + the CRI header; the read buffer is barely larger, so lines straddle reads.
const limits: LineLimits = { maxLineBytes: RUNTIME_SPLIT + 64, truncate: true };
const readBuffer = () => Buffer.alloc(20_000);

async function openTailed(t: { after(fn: () => void): void }, path: string, position: number) {
  const handle = await open(path, 'r');
  t.after(() => void handle.close());
  return new TailedFile(path, path, path, handle, position, new OffsetTracker(position, () => undefined), {});
}

function pipeline(mode: ContainerMode) {
  const inner = new RecordingSink();
  return { inner, sink: new ContainerLineSink(inner, { mode, maxBytes: 1 << 20 }) };
}

test('through a real TailedFile: a split message with a stderr line inside, stopped by backpressure mid-message, then a crash', async (t) => {
  const path = join(tempDir(t), 'ingress-nginx-controller-7d9f8c6b5-x2x4q_ingress-nginx_controller-' + 'a'.repeat(64) + '.log');
  const long = longAccessLine(40_000);
  const split = physicalLines(containerd('stdout', long)); // P, P, F
  assert.equal(split.length, 3);
  const stderr = containerd('stderr', '2024/05/14 09:21:07 [warn] 31#31: *12 an upstream response is buffered to a temporary file');
  const nl = Buffer.from('\n');
  const first = containerd('stdout', 'line-0');
  const content = Buffer.concat([first, split[0]!.line, nl, stderr, split[1]!.line, nl, split[2]!.line, nl, containerd('stdout', 'line-after')]);
  const physical = physicalLines(content);
  const [l0, p1, err, p2, f3, after] = physical;
  writeFileSync(path, content);

  const { inner, sink } = pipeline('auto');
  inner.capacity = 2; // full right at the stderr line, between the parts of the stdout message
  const file = await openTailed(t, path, 0);
  const buf = readBuffer();
  assert.equal(await file.read(buf, sink, limits, counter), 'full');
  assert.equal(file.position, err!.nextOffset, 'the tailer stopped after the stderr line');
  assert.deepEqual(inner.lines.map(seen), [
    { text: 'line-0', lineOffset: 0, nextOffset: l0!.nextOffset, truncated: false },
    // Its own id, but the checkpoint may not pass the first part of the pending message.
    { text: stderr.subarray(stderr.indexOf(' F ') + 3, -1).toString(), lineOffset: err!.lineOffset, nextOffset: p1!.lineOffset, truncated: false },
  ]);
  assert.equal(file.tracker.committed, p1!.lineOffset);

  // Drained: reading resumes with the next physical line and completes the message.
  inner.capacity = Infinity;
  assert.equal(await file.read(buf, sink, limits, counter), 'eof');
  assert.deepEqual(
    inner.lines.slice(2).map((l) => [l.text === long ? 'LONG' : l.text, l.lineOffset, l.nextOffset, l.truncated]),
    [
      ['LONG', p1!.lineOffset, f3!.nextOffset, false],
      ['line-after', after!.lineOffset, after!.nextOffset, false],
    ],
  );
  assert.equal(file.tracker.committed, content.length);
  assert.ok(p2!.lineOffset > p1!.lineOffset);

  // A crash while stopped (checkpoint = first part): a new process resumes there and
  // ships the whole message again with the same id; the stderr line again too (same id).
  const again = pipeline('auto');
  const reopened = await openTailed(t, path, p1!.lineOffset);
  assert.equal(await reopened.read(readBuffer(), again.sink, limits, counter), 'eof');
  assert.deepEqual(
    again.inner.lines.map((l) => [l.text === long ? 'LONG' : l.text.slice(0, 10), l.lineOffset, l.nextOffset]),
    [
      ['2024/05/14', err!.lineOffset, p1!.lineOffset],
      ['LONG', p1!.lineOffset, f3!.nextOffset],
      ['line-after', after!.lineOffset, after!.nextOffset],
    ],
  );
});

test('through a real TailedFile: parts written over time; the checkpoint never lands between parts', async (t) => {
  const path = join(tempDir(t), 'c.log');
  const long = 'L'.repeat(3 * RUNTIME_SPLIT - 7);
  const parts = physicalLines(containerd('stdout', long)); // P, P, F
  writeFileSync(path, containerd('stdout', 'before'));
  const { inner, sink } = pipeline('cri');
  const file = await openTailed(t, path, 0);
  const buf = readBuffer();
  await file.read(buf, sink, limits, counter);
  const base = file.position;
  const checkpoints: number[] = [];
  for (const part of parts) {
    // Each part arrives in two writes, the second one with its newline.
    appendFileSync(path, part.line.subarray(0, 100));
    await file.read(buf, sink, limits, counter);
    appendFileSync(path, Buffer.concat([part.line.subarray(100), Buffer.from('\n')]));
    await file.read(buf, sink, limits, counter);
    checkpoints.push(file.tracker.committed);
  }
  assert.deepEqual(checkpoints, [base, base, base + parts[2]!.nextOffset], 'stays before the first part until the last one is in');
  assert.deepEqual(inner.lines.map((l) => [l.text.length, l.lineOffset, l.nextOffset]), [
    [6, 0, base],
    [long.length, base, base + parts[2]!.nextOffset],
  ]);
  assert.equal(inner.lines[1]!.text, long);
});

test('through a real TailedFile: every real ingress-nginx access line, wrapped by containerd and by docker, comes back byte-exact', async (t) => {
  const real = readFileSync(new URL('../fixtures/nginx/upstreaminfo.log', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(real.some((l) => l.length > 8000), 'the fixture holds an 8 KiB URI');
  for (const [mode, write] of [['cri', containerd], ['docker', docker]] as const) {
    const chunks: Buffer[] = [];
    const expected: string[] = [];
    real.forEach((line, i) => {
      // A node configured with max_container_log_line_size = 4096 splits the long ones.
      chunks.push(write('stdout', line, 4096));
      expected.push(line);
      if (i % 10 === 0) {
        chunks.push(write('stderr', `2024/05/14 09:21:07 [notice] 31#31: signal process started (${i})`, 4096));
        expected.push(`2024/05/14 09:21:07 [notice] 31#31: signal process started (${i})`);
      }
    });
    const content = Buffer.concat(chunks);
    assert.ok(physicalLines(content).length > expected.length, `${mode}: some lines were split`);
    const path = join(tempDir(t), `${mode}.log`);
    writeFileSync(path, content);
    const { inner, sink } = pipeline('auto');
    const file = await openTailed(t, path, 0);
    assert.equal(await file.read(readBuffer(), sink, limits, counter), 'eof');
    assert.deepEqual(inner.lines.map((l) => l.text), expected, mode);
    // Offsets: each logical line starts where the previous one ended (no stderr line sits inside a split here).
    let at = 0;
    for (const l of inner.lines) {
      assert.equal(l.lineOffset, at);
      at = l.nextOffset;
    }
    assert.equal(at, content.length);
    assert.equal(file.tracker.committed, content.length);
  }
});
