/**
 * The agent's per-line work between tailer and batcher (its LineEncoder:
 * UTF-8 decode, parse, transforms, record JSON, id and headers), measured in
 * this process on one core: bench/e2e.ts's "parse stage alone" and
 * bench/transforms.ts.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Batcher } from '../src/batch/batcher.ts';
import { EncodedRecords } from '../src/batch/encoded-records.ts';
import type { OutMessage } from '../src/batch/types.ts';
import type { OffsetTracker } from '../src/checkpoint/offset-tracker.ts';
import type { TransformsConfig } from '../src/config/types.ts';
import { LineEncoder, type Routing } from '../src/encode/line-encoder.ts';
import { sourceOf } from '../src/encode/record-json.ts';
import { compileTemplate, destinationName } from '../src/encode/template.ts';
import { Stats } from '../src/observe/stats.ts';
import { compileLogFormat, resolveFormat } from '../src/parse/index.ts';
import type { FileSource } from '../src/tail/types.ts';
import { compileTransforms } from '../src/transform/compile.ts';

/** The first `count` lines of a generated file (bytes, '\n'-terminated). */
export function headOfFile(file: string, count: number): Buffer {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(count * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  let end = 0;
  for (let i = 0; i < count; i++) {
    const nl = buf.indexOf(10, end);
    if (nl === -1 || nl >= n) break;
    end = nl + 1;
  }
  return buf.subarray(0, end);
}

export interface StageResult {
  lines: number;
  linesPerSecond: number;
  cpuPerMillion: number;
  nsPerLine: number;
  messages: OutMessage[];
  stats: Stats;
}

/**
 * The LineEncoder of an input of `format` (with `transforms`, as they are
 * compiled at start-up; `env` for their secrets) over `data`, best of `rounds`.
 */
export function encoderStage(format: string, data: Buffer, options: { transforms?: TransformsConfig; env?: NodeJS.ProcessEnv; rounds?: number } = {}): StageResult {
  const parser = compileLogFormat(resolveFormat({ format }));
  const routing: Routing = {
    topic: compileTemplate('bench', { record: parser.fields, source: ['host', 'path', 'input'] }, 'kafka.topic'),
    destination: destinationName('kafka'),
    key: undefined,
    deadLetterTopic: 'logship-dead-letter',
    onError: 'dead_letter',
    idInRecord: false,
    maxMessageBytes: 1_000_000,
    transforms: compileTransforms(options.transforms, parser, 'bench.transforms', options.env ?? {}),
  };
  const source = sourceOf('bench-host', '/var/log/nginx/access.log', 'bench');
  const file: FileSource = { key: '2049:1234567:9f1c2b3a', id: '2049:1234567:9f1c2b3a', path: source.path!, tracker: undefined as unknown as OffsetTracker, source, sourceJson: JSON.stringify(source) };
  // A batcher that keeps the first 1000 records (for the kafkajs stage) and counts the rest.
  let records = new EncodedRecords();
  let kept: EncodedRecords | undefined;
  let sink = 0;
  const batcher = {
    recordsFor() {
      if (records.count >= 1000) {
        kept ??= records;
        sink += records.length;
        records = new EncodedRecords();
      }
      return records;
    },
    added() {},
    skip() {},
  } as unknown as Batcher;
  const stats = new Stats();
  const encoder = new LineEncoder(parser, routing, batcher, () => false, stats.input('bench'));
  let best = Infinity;
  let lines = 0;
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    lines = 0;
    const cpu = process.cpuUsage();
    let pos = 0;
    let nl;
    while ((nl = data.indexOf(10, pos)) !== -1) {
      encoder.line(file, data, pos, nl, pos, nl + 1, false);
      pos = nl + 1;
      lines++;
    }
    const used = process.cpuUsage(cpu);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  if (sink === 0 || stats.counters.parse_errors > 0) throw new Error(`${format}: ${stats.counters.parse_errors} parse errors`);
  return { lines, linesPerSecond: lines / best, cpuPerMillion: (best / lines) * 1e6, nsPerLine: (best / lines) * 1e9, messages: kept?.toMessages() ?? [], stats };
}
