import type { Batcher } from '../batch/batcher.ts';
import { fileHeaders, type FileHeaders } from '../batch/encoded-records.ts';
import type { OnParseError } from '../config/types.ts';
import type { DeadLetterReason, InputCounters } from '../observe/stats.ts';
import { NO_TAP, type TapPoint } from '../observe/tap.ts';
import { ParseError, type LineParser, type LogRecord } from '../parse/types.ts';
import type { FileSource, LineSink } from '../tail/types.ts';
import type { Transforms } from '../transform/compile.ts';
import { failedLineJson, recordId, recordIdPrefix, RECORD_ID_HEADER, sourceTail, withId, withSource } from './record-json.ts';
import { sourceHeaders } from './source-headers.ts';
import type { Template } from './template.ts';

export interface Routing {
  topic: Template;
  /** A rendered topic template as a name the output takes (template.ts destinationName). */
  destination: (rendered: string) => string;
  key: Template | undefined;
  deadLetterTopic: string;
  onError: OnParseError;
  /** ndjson: the id rides in each record (`_id`), as the message holds many. */
  idInRecord: boolean;
  maxMessageBytes: number;
  /** The input's transforms (src/transform/compile.ts); none configured: undefined, and nothing on the hot path. */
  transforms?: Transforms;
}

const EMPTY: LogRecord = {};

interface FileEncoding {
  readonly id: string;
  readonly path: string;
  readonly sourceJson: string;
  readonly headers: FileHeaders;
  /** The headers' value lengths in the record's framing: 2 bytes each. */
  readonly headersFraming: number;
  readonly sourceTail: Uint8Array;
}

/**
 * The hot path, once per line: decode, parse, encode, batch. For a good
 * line: one string for the line, the record and its JSON, all garbage as
 * soon as the record is written into its batch as bytes (EncodedRecords);
 * topic and key cost nothing unless they are templates; the headers are
 * the file's, encoded once.
 */
export class LineEncoder implements LineSink {
  private readonly parser: LineParser;
  private routing: Routing;
  private readonly batcher: Batcher;
  private readonly isFull: () => boolean;
  private readonly counters: InputCounters;
  private readonly tap: TapPoint;
  // The last file's encoding: lines come in runs per file.
  private encodingFile: FileSource | undefined;
  private encoding: FileEncoding | undefined;

  /** `counters`: the input's (counted with no lookup per line). `tap`: `logship tap`'s view of what leaves (observe/tap.ts). */
  constructor(parser: LineParser, routing: Routing, batcher: Batcher, isFull: () => boolean, counters: InputCounters, tap: TapPoint = NO_TAP) {
    this.parser = parser;
    this.routing = routing;
    this.batcher = batcher;
    this.isFull = isFull;
    this.counters = counters;
    this.tap = tap;
  }

  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    const counters = this.counters;
    const routing = this.routing;
    counters.lines_read++;
    // Invalid UTF-8 becomes U+FFFD here; nginx's own escapes are undone by the parser.
    const text = buf.toString('utf8', start, end);
    const parsed = this.parser.parse(text);
    let record: LogRecord;
    let value: string;
    let topic: string;
    // The record's JSON takes the file's source as bytes in place of its closing brace (EncodedRecords.addLine).
    let tail: Uint8Array | undefined;
    let deadLetter: DeadLetterReason | undefined;
    if (parsed instanceof ParseError) {
      counters.parse_errors++;
      if (routing.onError === 'drop') {
        counters.lines_dropped++;
        this.batcher.skip(file.tracker, nextOffset, counters);
        return !this.isFull();
      }
      let raw = text;
      let reason = parsed.reason;
      // Privacy holds on the error path too: the line and the reason's excerpts of it, redacted.
      if (routing.transforms !== undefined) [raw, reason] = routing.transforms.failed(text, reason);
      if (truncated) reason = `line truncated to max_line_bytes; ${reason}`;
      value = failedLineJson(raw, reason, file.sourceJson);
      record = EMPTY;
      if (routing.onError === 'dead_letter') {
        deadLetter = 'parse_error';
        topic = routing.deadLetterTopic;
      } else topic = this.topic(record, file);
    } else {
      counters.records_parsed++;
      record = parsed;
      if (routing.transforms !== undefined) {
        const shipped = routing.transforms.apply(parsed);
        if (typeof shipped === 'string') {
          // Filtered or sampled out: counted, and its offset advances the checkpoint like any shipped line's.
          counters[shipped]++;
          this.batcher.skip(file.tracker, nextOffset, counters);
          return !this.isFull();
        }
        record = shipped;
      }
      topic = this.topic(record, file);
      value = JSON.stringify(record);
      if (routing.transforms?.source === 'headers') {
        // fields.source: headers: the source rides in the headers only (refused at start-up with ndjson, which has none).
      } else if (value.length > 2 && !routing.idInRecord) tail = this.encodingOf(file).sourceTail;
      else value = withSource(value, file.sourceJson);
    }
    if (routing.idInRecord) value = withId(value, recordId(file.id, lineOffset));
    if (value.length > routing.maxMessageBytes / 3 && Buffer.byteLength(value) + (tail?.length ?? 0) > routing.maxMessageBytes) {
      // Retrying would never succeed: the record goes to the dead-letter topic with the reason, cut to fit.
      deadLetter = 'too_large';
      const reason = `record of ${Buffer.byteLength(value) + (tail?.length ?? 0)} bytes exceeds kafka.max_message_bytes (${routing.maxMessageBytes})`;
      const raw = routing.transforms === undefined ? text : routing.transforms.rawLine(text);
      value = failedLineJson(raw.slice(0, Math.floor(routing.maxMessageBytes / 8)), reason, file.sourceJson);
      topic = routing.deadLetterTopic;
      tail = undefined;
    }
    const key = routing.key === undefined ? null : routing.key.render(record, file.source);
    let bytes = value.length + (tail === undefined ? 0 : tail.length) + RECORD_FRAMING + (key === null ? 0 : key.length);
    let headers: FileHeaders | undefined;
    if (!routing.idInRecord) {
      const encoding = this.encodingOf(file);
      headers = encoding.headers;
      bytes += encoding.headersFraming + headers.size + MAX_OFFSET_DIGITS;
    }
    // `logship tap`: one field read per line unless someone taps.
    if (this.tap.active) this.tap.offer(file, topic, key, value, tail !== undefined, headers !== undefined, lineOffset);
    this.batcher.recordsFor(topic, bytes).addLine(key, value, tail, headers, lineOffset);
    if (deadLetter !== undefined) counters.dead_letters[deadLetter]++;
    this.batcher.added(bytes, file.tracker, nextOffset, counters, deadLetter !== undefined);
    return !this.isFull();
  }

  /** New topic, key and dead-letter routing (a reload): the lines encoded from now on go by it. */
  reroute(routing: Routing): void {
    this.routing = routing;
  }

  /** What every record of `file` carries, as bytes: its headers and its source. */
  private encodingOf(file: FileSource): FileEncoding {
    // A file's id changes when a copy takes over its original's (copytruncate), its path when it is found renamed.
    let encoding = this.encoding;
    if (file !== this.encodingFile || encoding === undefined || file.id !== encoding.id || file.path !== encoding.path || file.sourceJson !== encoding.sourceJson) {
      const rest = sourceHeaders(file, this.routing.transforms?.source ?? 'both');
      encoding = {
        id: file.id,
        path: file.path,
        sourceJson: file.sourceJson,
        headers: fileHeaders(RECORD_ID_HEADER, recordIdPrefix(file.id), rest),
        headersFraming: (1 + rest.length) * HEADER_FRAMING,
        sourceTail: Buffer.from(sourceTail(file.sourceJson)),
      };
      this.encoding = encoding;
      this.encodingFile = file;
    }
    return encoding;
  }

  private topic(record: LogRecord, file: FileSource): string {
    const template = this.routing.topic;
    return template.constant ?? this.routing.destination(template.render(record, file.source));
  }
}

// A record's size in its Kafka record batch, as the batch counts it against
// max_bytes (string lengths: ASCII-exact; the default limit leaves room under
// the broker's 1048588): length, attributes, timestamp and offset deltas, key
// and value lengths and header count take at most 21 bytes of varints...
const RECORD_FRAMING = 21;
// ...and each header's value length (names and values are in FileHeaders.size)...
const HEADER_FRAMING = 2;
// ...with the digits of the id's line offset.
const MAX_OFFSET_DIGITS = 16;
