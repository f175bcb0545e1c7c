import type { Batcher } from '../batch/batcher.ts';
import type { OnParseError } from '../config/types.ts';
import type { Stats } from '../observe/stats.ts';
import { ParseError, type LineParser } from '../parse/types.ts';
import type { FileSource, LineSink } from '../tail/types.ts';
import { failedLineJson, recordId, recordJson, RECORD_ID_HEADER } from './record-json.ts';

export interface Routing {
  topic: string;
  deadLetterTopic: string;
  onError: OnParseError;
}

/**
 * The hot path, once per line: decode, parse, encode, batch. One string for
 * the line, one record, one JSON string and one headers object: nothing else
 * is allocated for a good line.
 */
export class LineEncoder implements LineSink {
  private readonly parser: LineParser;
  private readonly routing: Routing;
  private readonly batcher: Batcher;
  private readonly isFull: () => boolean;
  private readonly stats: Stats;

  constructor(parser: LineParser, routing: Routing, batcher: Batcher, isFull: () => boolean, stats: Stats) {
    this.parser = parser;
    this.routing = routing;
    this.batcher = batcher;
    this.isFull = isFull;
    this.stats = stats;
  }

  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    const counters = this.stats.counters;
    counters.lines_read++;
    // Invalid UTF-8 becomes U+FFFD here; nginx's own escapes are undone by the parser.
    const text = buf.toString('utf8', start, end);
    const parsed = this.parser.parse(text);
    let topic = this.routing.topic;
    let value: string;
    if (parsed instanceof ParseError) {
      counters.parse_errors++;
      if (this.routing.onError === 'drop') {
        counters.lines_dropped++;
        this.batcher.skip(file.tracker, nextOffset);
        return !this.isFull();
      }
      if (this.routing.onError === 'dead_letter') topic = this.routing.deadLetterTopic;
      const reason = truncated ? `line truncated to max_line_bytes; ${parsed.reason}` : parsed.reason;
      value = failedLineJson(text, reason, file.sourceJson);
    } else {
      counters.records_parsed++;
      value = recordJson(parsed, file.sourceJson);
    }
    this.batcher.add(topic, { key: null, value, headers: { [RECORD_ID_HEADER]: recordId(file.key, lineOffset) } }, value.length, file.tracker, nextOffset);
    return !this.isFull();
  }
}
