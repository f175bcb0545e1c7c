import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameSplitter } from '../../src/syslog/tcp-framing.ts';

/** Feeds `stream` in chunks of `size` bytes; returns the frames as text with their offsets. */
function frames(stream: string, size: number, maxBytes = 1000): { text: string; offset: number; truncated: boolean }[] {
  const splitter = new FrameSplitter(maxBytes);
  const out: { text: string; offset: number; truncated: boolean }[] = [];
  const bytes = Buffer.from(stream);
  for (let i = 0; i < bytes.length; i += size) {
    const problem = splitter.push(bytes.subarray(i, i + size), (f) => out.push({ text: f.buf.toString('utf8', f.start, f.end), offset: f.offset, truncated: f.truncated }));
    assert.equal(problem, undefined);
  }
  return out;
}

test('octet-counted and newline-framed messages, mixed, whatever the chunking; offsets are stream offsets', () => {
  const stream = '11 <1>a b: c d<2>x y: z\n5 <3>ee<4>w\n';
  const expected = [
    { text: '<1>a b: c d', offset: 0, truncated: false },
    { text: '<2>x y: z', offset: 14, truncated: false },
    { text: '<3>ee', offset: 24, truncated: false },
    { text: '<4>w', offset: 31, truncated: false },
  ];
  for (const size of [1, 2, 3, 7, 100]) assert.deepEqual(frames(stream, size), expected, `chunks of ${size}`);
});

test('a frame over the limit is cut to it and the rest skipped, in both framings', () => {
  const long = 'x'.repeat(50);
  const stream = `53 <1>${long}<2>${long}\n3 <3>`;
  for (const size of [1, 5, 200]) {
    assert.deepEqual(frames(stream, size, 10), [
      { text: `<1>${long}`.slice(0, 10), offset: 0, truncated: true },
      { text: `<2>${long}`.slice(0, 10), offset: 56, truncated: true },
      { text: '<3>', offset: 110, truncated: false },
    ], `chunks of ${size}`);
  }
});

test('bytes that are not syslog framing are refused with the offset', () => {
  const splitter = new FrameSplitter(100);
  assert.match(splitter.push(Buffer.from('12x <1>'), () => undefined) ?? '', /octet count not followed by a space at stream offset 2/);
});
