import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import { ContainerLineSink, type ContainerEvents, type ContainerMode } from '../../src/tail/container/index.ts';
import type { FileSource, LineSink } from '../../src/tail/types.ts';
import { containerd, crio, docker, longAccessLine, physicalLines, RUNTIME_SPLIT } from './fixtures/container-runtime.ts';

interface Seen {
  text: string;
  lineOffset: number;
  nextOffset: number;
  truncated: boolean;
  /** The buffer passed was the caller's own (no copy). */
  sameBuf: boolean;
}

/** The inner sink: records logical lines; says "full" after `capacity` lines. */
class Inner implements LineSink {
  readonly lines: Seen[] = [];
  capacity = Infinity;
  input: Buffer | undefined;
  line(_file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    this.lines.push({ text: buf.toString('utf8', start, end), lineOffset, nextOffset, truncated, sameBuf: buf === this.input });
    return this.lines.length < this.capacity;
  }
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}

class Events implements ContainerEvents {
  readonly malformedSeen: Array<[string, number]> = [];
  readonly long: number[] = [];
  malformed(_file: FileSource, reason: string, lineOffset: number): void {
    this.malformedSeen.push([reason, lineOffset]);
  }
  longMessage(_file: FileSource, lineOffset: number): void {
    this.long.push(lineOffset);
  }
}

function source(path = '/var/log/containers/x.log'): FileSource {
  return { key: path, id: path, path, tracker: new OffsetTracker(0, () => undefined), source: {}, sourceJson: '{}' };
}

function setup(mode: ContainerMode, maxBytes = 1 << 20) {
  const inner = new Inner();
  const events = new Events();
  const sink = new ContainerLineSink(inner, { mode, maxBytes, events });
  return { inner, events, sink };
}

/**
 * Feeds `content` line by line as the tailer does (one shared buffer, a
 * range per line, offsets of the file); returns the sink's answers.
 */
function feed(sink: LineSink, inner: Inner, file: FileSource, content: Buffer, base = 0): boolean[] {
  inner.input = content;
  return physicalLines(content).map(({ line, lineOffset, nextOffset }) =>
    sink.line(file, content, line.byteOffset - content.byteOffset, line.byteOffset - content.byteOffset + line.length, base + lineOffset, base + nextOffset, false),
  );
}

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

const INGRESS_MESSAGES = [
  '-------------------------------------------------------------------------------',
  'NGINX Ingress controller',
  '  Release:       v1.10.1',
  '',
  '10.244.0.1 - - [14/May/2024:09:21:07 +0000] "GET /healthz HTTP/1.1" 200 0 "-" "kube-probe/1.29" 112 0.000 [upstream-default-backend] [] - - - - 5d41402abc4b2a76b9719d911017c592',
  '2024/05/14 09:21:07 [error] 31#31: *12 connect() failed (111: Connection refused) while connecting to upstream, client: 10.244.0.1, server: shop.example.com, request: "GET /api/items HTTP/1.1", upstream: "http://10.244.1.5:8080/api/items", host: "shop.example.com"',
  '10.244.0.1 - - [14/May/2024:09:21:07 +0000] "GET /api/items HTTP/1.1" 502 150 "-" "curl/8.5.0" 85 0.001 [shop-api-80] [] 10.244.1.5:8080 0 0.001 502 7d793037a0760186574b0282f2f435e7',
  '10.244.0.1 - - [14/May/2024:09:21:08 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl/8.5.0" 80 0.002 [shop-api-80] [] 10.244.1.5:8080 12 0.002 200 e4da3b7fbbce2345d7772b0674a318d5',
];

test('CRI file from containerd: one logical line per message, exact offsets, whole lines not copied', () => {
  const content = fixture('containerd-ingress.log');
  const physical = physicalLines(content);
  const { inner, events, sink } = setup('cri');
  const answers = feed(sink, inner, source(), content);
  assert.deepEqual(answers, Array(9).fill(true));
  assert.deepEqual(inner.texts(), INGRESS_MESSAGES);
  // Lines 0..6 are whole (F) lines: their own offsets, slices of the tailer's buffer.
  for (let i = 0; i < 7; i++) {
    assert.deepEqual(inner.lines[i], { text: INGRESS_MESSAGES[i], lineOffset: physical[i]!.lineOffset, nextOffset: physical[i]!.nextOffset, truncated: false, sameBuf: true });
  }
  // P + F: the offset of the P line, up to after the F line; the joined bytes are our own buffer.
  assert.deepEqual(inner.lines[7], { text: INGRESS_MESSAGES[7], lineOffset: 1020, nextOffset: 1275, truncated: false, sameBuf: false });
  assert.equal(physical[7]!.lineOffset, 1020);
  assert.equal(content.length, 1275);
  assert.deepEqual(events.malformedSeen, []);
});

test('docker json-file: the same messages, escapes decoded, partial lines joined', () => {
  const content = fixture('docker-ingress.log');
  const physical = physicalLines(content);
  const { inner, events, sink } = setup('docker');
  feed(sink, inner, source(), content);
  const expected = INGRESS_MESSAGES.filter((m) => !m.startsWith('  Release')).map((m) =>
    m.replace(/\/api\/items( HTTP|")/g, '/api/items?a=1&b=2$1').replace('"curl/8.5.0" 85', '"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/126.0" 85'),
  );
  assert.deepEqual(inner.texts(), expected);
  assert.deepEqual(
    inner.lines.map((l) => [l.lineOffset, l.nextOffset]),
    [...physical.slice(0, 6).map((p) => [p.lineOffset, p.nextOffset]), [physical[6]!.lineOffset, physical[7]!.nextOffset]],
  );
  // No escape but the newline: a slice of the input. Escaped quotes: decoded into the scratch buffer.
  assert.deepEqual(inner.lines.map((l) => l.sameBuf), [true, true, true, false, false, false, false]);
  assert.deepEqual(events.malformedSeen, []);
});

test('a 40 KiB line split by the runtime at 16 KiB is joined back byte-exact, CRI and docker', () => {
  const long = longAccessLine(40_000);
  for (const [mode, write] of [['cri', containerd], ['docker', docker]] as const) {
    const before = write('stdout', 'before');
    const split = write('stdout', long);
    const atLimit = write('stdout', 'x'.repeat(RUNTIME_SPLIT));
    const overByOne = write('stdout', 'y'.repeat(RUNTIME_SPLIT + 1));
    const after = write('stderr', 'after');
    const content = Buffer.concat([before, split, atLimit, overByOne, after]);
    assert.equal(physicalLines(split).length, Math.ceil(Buffer.byteLength(long) / RUNTIME_SPLIT), `${mode}: the runtime split it`);
    assert.equal(physicalLines(atLimit).length, 1, `${mode}: exactly 16 KiB is one line`);
    assert.equal(physicalLines(overByOne).length, 2, `${mode}: 16 KiB + 1 is two`);
    const { inner, sink } = setup(mode);
    feed(sink, inner, source(), content);
    assert.deepEqual(inner.texts(), ['before', long, 'x'.repeat(RUNTIME_SPLIT), 'y'.repeat(RUNTIME_SPLIT + 1), 'after'], mode);
    let at = 0;
    const spans = [before, split, atLimit, overByOne, after].map((b) => [at, (at += b.length)]);
    assert.deepEqual(inner.lines.map((l) => [l.lineOffset, l.nextOffset]), spans, mode);
    assert.ok(inner.lines.every((l) => !l.truncated));
  }
});

test('stderr lines between the parts of a stdout message: joined per stream, the checkpoint waits for the message', () => {
  const p1 = containerd('stdout', 'a'.repeat(RUNTIME_SPLIT + 10));
  const [pa, fa] = physicalLines(p1);
  const err1 = containerd('stderr', 'error one');
  const err2 = containerd('stderr', 'e'.repeat(RUNTIME_SPLIT + 5)); // stderr P + F
  const last = containerd('stdout', 'tail');
  // File order: stdout P, stderr F, stderr P, stdout F, stderr F, stdout F.
  const [eP, eF] = physicalLines(err2);
  const content = Buffer.concat([pa!.line, Buffer.from('\n'), err1, eP!.line, Buffer.from('\n'), fa!.line, Buffer.from('\n'), eF!.line, Buffer.from('\n'), last]);
  const physical = physicalLines(content);
  const { inner, sink } = setup('cri');
  feed(sink, inner, source(), content);
  assert.deepEqual(
    inner.lines.map((l) => [l.text.length > 20 ? `${l.text[0]}×${l.text.length}` : l.text, l.lineOffset, l.nextOffset]),
    [
      // The stderr line keeps its own offset (its id) but reports the stdout message's start as the resume point.
      ['error one', physical[1]!.lineOffset, physical[0]!.lineOffset],
      // The stdout message completes while a stderr one is pending: the resume point waits for that one.
      [`a×${RUNTIME_SPLIT + 10}`, physical[0]!.lineOffset, physical[2]!.lineOffset],
      [`e×${RUNTIME_SPLIT + 5}`, physical[2]!.lineOffset, physical[4]!.nextOffset],
      ['tail', physical[5]!.lineOffset, physical[5]!.nextOffset],
    ],
  );
  const resumePoints = inner.lines.map((l) => l.nextOffset);
  assert.deepEqual(resumePoints, [...resumePoints].sort((a, b) => a - b), 'nextOffsets never go backwards');
});

test('a joined message longer than maxBytes is cut there and flagged truncated; memory stays bounded', () => {
  const { inner, events, sink } = setup('cri', 20_000);
  const long = 'z'.repeat(5 * RUNTIME_SPLIT);
  const content = Buffer.concat([containerd('stdout', long), containerd('stdout', 'next')]);
  feed(sink, inner, source(), content);
  assert.deepEqual(inner.lines.map((l) => [l.text.length, l.truncated]), [[20_000, true], [4, false]]);
  assert.equal(inner.lines[0]!.text, long.slice(0, 20_000));
  assert.equal(inner.lines[0]!.lineOffset, 0);
  assert.equal(inner.lines[0]!.nextOffset, content.length - containerd('stdout', 'next').length);
  assert.deepEqual(events.long, [0], 'reported once, with the message offset');
});

test('malformed lines are passed on raw, with a reason, never dropped; a pending message still holds the resume point', () => {
  const { inner, events, sink } = setup('cri');
  const klog = 'I0514 09:21:05.402417       7 main.go:205] "Creating API client" host="https://10.96.0.1:443"';
  // The P part of a split message, then a broken line before its F part.
  const pLine = physicalLines(containerd('stdout', 'p'.repeat(RUNTIME_SPLIT + 1)))[0]!;
  const file = Buffer.concat([Buffer.from(klog + '\n'), pLine.line, Buffer.from('\n2024-05-14T09:21:07Z stdin F nope\n')]);
  const physical = physicalLines(file);
  const f = source();
  feed(sink, inner, f, file);
  assert.deepEqual(
    inner.lines.map((l) => [l.text, l.lineOffset, l.nextOffset, l.sameBuf]),
    [
      [klog, 0, physical[0]!.nextOffset, true],
      ['2024-05-14T09:21:07Z stdin F nope', physical[2]!.lineOffset, physical[1]!.lineOffset, true],
    ],
  );
  assert.deepEqual(events.malformedSeen, [
    ['CRI line: the first field is not an RFC 3339 time', 0],
    ['CRI line: the stream is not stdout or stderr', physical[2]!.lineOffset],
  ]);
  assert.equal(sink.pending(f), true);
  assert.equal(sink.pending(source()), false, 'state is per file object');
});

test('auto: each file is decided by its first recognisable line, then sticks to it', () => {
  const { inner, events, sink } = setup('auto');
  const criFile = source('/var/log/containers/a.log');
  const dockerFile = source('/var/lib/docker/containers/b/b-json.log');
  const criContent = Buffer.concat([
    Buffer.from('garbage before anything\n'),
    crio('stdout', 'cri-o line'),
    Buffer.from('{"log":"docker in a CRI file\\n","stream":"stdout","time":"t"}\n'),
    containerd('stderr', 'containerd line'),
  ]);
  const criInDocker = containerd('stdout', 'CRI in a docker file');
  const dockerContent = Buffer.concat([docker('stdout', 'docker line'), criInDocker]);
  feed(sink, inner, criFile, criContent);
  feed(sink, inner, dockerFile, dockerContent);
  assert.deepEqual(inner.texts(), [
    'garbage before anything',
    'cri-o line',
    '{"log":"docker in a CRI file\\n","stream":"stdout","time":"t"}',
    'containerd line',
    'docker line',
    criInDocker.subarray(0, -1).toString(),
  ]);
  assert.deepEqual(
    events.malformedSeen.map(([reason]) => reason),
    [
      'neither a CRI nor a docker json-file line (container: auto)',
      'CRI line: the first field is not an RFC 3339 time',
      'docker json-file line: does not start with {"log":"',
    ],
  );
});

test('backpressure: the inner answer for lines passed on, true for parts only buffered', () => {
  const { inner, sink } = setup('cri');
  inner.capacity = 1;
  const content = Buffer.concat([containerd('stdout', 'first'), containerd('stdout', 'q'.repeat(2 * RUNTIME_SPLIT + 1)), containerd('stdout', 'third')]);
  // The tailer would stop after "first"; called anyway, the buffered parts still say true.
  assert.deepEqual(feed(sink, inner, source(), content), [false, true, true, false, false]);
});

test('offsets going back (truncation) drop the parts held; a gap (skipped line) flags the message truncated', () => {
  const file = source();
  const msg = containerd('stdout', 'r'.repeat(RUNTIME_SPLIT + 3));
  const [p, f] = physicalLines(msg);
  const { inner, sink } = setup('cri');
  inner.input = msg;
  sink.line(file, msg, 0, p!.line.length, 0, p!.nextOffset, false);
  assert.equal(sink.pending(file), true);
  // copytruncate: the tailer reads the new content from 0.
  const fresh = containerd('stdout', 'new content');
  inner.input = fresh;
  sink.line(file, fresh, 0, fresh.length - 1, 0, fresh.length, false);
  assert.equal(sink.pending(file), false);
  assert.deepEqual(inner.lines.map((l) => [l.text, l.lineOffset, l.nextOffset, l.truncated]), [['new content', 0, fresh.length, false]]);
  // A P part, then a line the tailer skipped (too long), then the F part.
  inner.lines.length = 0;
  const base = fresh.length;
  sink.line(file, msg, 0, p!.line.length, base, base + p!.nextOffset, false);
  inner.input = msg;
  sink.line(file, msg, f!.lineOffset, f!.nextOffset - 1, base + p!.nextOffset + 100, base + p!.nextOffset + 100 + f!.line.length + 1, false);
  assert.deepEqual(inner.lines.map((l) => [l.text.length, l.lineOffset, l.truncated]), [[RUNTIME_SPLIT + 3, base, true]]);
});

test('a physical line cut by the tailer (max_line_bytes) makes its message truncated', () => {
  const { inner, sink } = setup('cri');
  const file = source();
  const msg = containerd('stdout', 's'.repeat(RUNTIME_SPLIT + 50));
  const [p, f] = physicalLines(msg);
  inner.input = msg;
  // The P line arrives cut to 1000 bytes (truncated=true), the F line whole.
  const header = p!.line.indexOf(' P ') + 3;
  sink.line(file, msg, 0, 1000, 0, p!.nextOffset, true);
  sink.line(file, msg, f!.lineOffset, f!.nextOffset - 1, f!.lineOffset, f!.nextOffset, false);
  assert.equal(inner.lines.length, 1);
  assert.equal(inner.lines[0]!.truncated, true);
  assert.equal(inner.lines[0]!.text, 's'.repeat(1000 - header + 50));
  assert.deepEqual([inner.lines[0]!.lineOffset, inner.lines[0]!.nextOffset], [0, msg.length]);
});

test('flush() passes on a message still waiting for its last part (a container that exited mid-line)', () => {
  const { inner, sink } = setup('docker');
  const file = source();
  const content = Buffer.concat([docker('stdout', 'whole'), Buffer.from('{"log":"exited without newline","stream":"stdout","time":"t"}\n')]);
  feed(sink, inner, file, content);
  assert.deepEqual(inner.texts(), ['whole']);
  assert.equal(sink.pending(file), true);
  assert.equal(sink.flush(file), true);
  assert.equal(sink.pending(file), false);
  assert.deepEqual(inner.lines[1], { text: 'exited without newline', lineOffset: docker('stdout', 'whole').length, nextOffset: content.length, truncated: false, sameBuf: false });
  assert.equal(sink.flush(file), true, 'nothing left');
  assert.equal(inner.lines.length, 2);
});
