/**
 * The agent's LineEncoder with an input's routing (transforms included),
 * lines fed as the tailer feeds them, and what it would hand the batcher
 * collected: messages by topic, and the offsets of lines skipped without a
 * message (they still advance the checkpoint).
 */
import { EncodedRecords } from '../../src/batch/encoded-records.ts';
import type { OutMessage } from '../../src/batch/types.ts';
import type { Batcher } from '../../src/batch/batcher.ts';
import type { OffsetTracker } from '../../src/checkpoint/offset-tracker.ts';
import { buildConfig } from '../../src/config/load.ts';
import { LineEncoder } from '../../src/encode/line-encoder.ts';
import { sourceOf } from '../../src/encode/record-json.ts';
import { Stats } from '../../src/observe/stats.ts';
import { inputRouting } from '../../src/pipeline.ts';
import type { FileSource } from '../../src/tail/types.ts';

export interface Encoded {
  byTopic: Map<string, OutMessage[]>;
  skipped: number[];
  stats: Stats;
}

/** Encodes `lines` of one file with an input of `input` (format, on_error, transforms) and `kafka` settings. */
export function encode(input: Record<string, unknown>, lines: readonly string[], options: { kafka?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {}): Encoded {
  const config = buildConfig({ inputs: [{ name: 'web', paths: ['/var/log/nginx/access.log'], ...input }], kafka: { brokers: ['127.0.0.1:9092'], topic: 'logs', dead_letter_topic: 'dead', ...options.kafka } }, {}, 'test.yaml', options.env ?? {});
  const { parser, routing } = inputRouting(config.inputs[0]!, 0, config, options.env ?? {});
  const topics = new Map<string, EncodedRecords>();
  const skipped: number[] = [];
  const batcher = {
    recordsFor(topic: string) {
      let records = topics.get(topic);
      if (records === undefined) topics.set(topic, (records = new EncodedRecords()));
      return records;
    },
    added() {},
    skip(_tracker: OffsetTracker, nextOffset: number) {
      skipped.push(nextOffset);
    },
  } as unknown as Batcher;
  const stats = new Stats();
  const encoder = new LineEncoder(parser, routing, batcher, () => false, stats.input('web'));
  const source = sourceOf('web-1', '/var/log/nginx/access.log', 'web');
  const file: FileSource = { key: '2049:77:abcd0123', id: '2049:77:abcd0123', path: source.path!, tracker: undefined as unknown as OffsetTracker, source, sourceJson: JSON.stringify(source) };
  let offset = 0;
  for (const line of lines) {
    const buf = Buffer.from(line, 'utf8');
    encoder.line(file, buf, 0, buf.length, offset, offset + buf.length + 1, false);
    offset += buf.length + 1;
  }
  return { byTopic: new Map([...topics].map(([topic, records]) => [topic, records.toMessages()])), skipped, stats };
}
