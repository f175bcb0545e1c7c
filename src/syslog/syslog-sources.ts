import { LRUCache } from 'lru-cache';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { FileSource } from '../tail/types.ts';

/** The fields of a syslog record's `source`, for topic and key templates. */
export const SYSLOG_SOURCE_FIELDS = ['host', 'input', 'transport', 'address', 'hostname', 'tag'];

/** Senders (and tags) remembered at once; a forgotten one gets a new serial, so ids never repeat. */
const MAX_SOURCES = 10_000;

export type Transport = 'udp' | 'tcp';

/** What the pipeline sees of one stream of syslog messages: a sender's tag over UDP, or a TCP connection's tag. */
export interface SyslogSource extends FileSource {
  /** UDP: the next message's sequence number (its "offset" in the record id). */
  next: number;
}

/**
 * One FileSource per sender (address, port), tag and header host name,
 * per connection for TCP. Record ids are
 * `<input>@<agent host>/<start ms>.<serial>/<transport>/<address>:<port>:<n>`
 * with n the message's sequence number from that sender and tag (UDP) or
 * its frame's byte offset in the connection (TCP). An id is given once, when
 * the message arrives, so every re-send of it (Kafka retries, spool replay
 * after a restart) carries the same one, and no two messages share one:
 * the start time tells agent runs apart, the serial sources within a run.
 */
export class SyslogSources {
  private readonly host: string;
  private readonly input: string;
  private readonly startMs = Date.now();
  private serial = 0;
  private readonly sources = new LRUCache<string, SyslogSource>({ max: MAX_SOURCES });
  private readonly onAdvance: (tracker: OffsetTracker) => void;

  constructor(host: string, input: string, onAdvance: (tracker: OffsetTracker) => void) {
    this.host = host;
    this.input = input;
    this.onAdvance = onAdvance;
  }

  /** `connection`: the TCP connection's serial (0 for UDP). */
  get(transport: Transport, connection: number, address: string, port: number, tag: string, hostname: string): SyslogSource {
    const key = `${transport}|${connection}|${address}|${port}|${tag}|${hostname}`;
    let source = this.sources.get(key);
    if (!source) {
      // One id prefix per TCP connection (offsets are unique in it), per sender and tag for UDP (sequence numbers are).
      const serial = transport === 'tcp' ? connection : ++this.serial;
      const id = `${this.input}@${this.host}/${this.startMs}.${serial}/${transport}/${address}:${port}`;
      const sourceObject = { host: this.host, input: this.input, transport, address, hostname, tag };
      source = {
        key: id,
        id: transport === 'udp' ? `${id}/${tag}` : id,
        path: `${transport}://${address}:${port}/${tag}`,
        tracker: new OffsetTracker(0, this.onAdvance),
        source: sourceObject,
        sourceJson: JSON.stringify(sourceObject),
        next: 0,
      };
      this.sources.set(key, source);
    }
    return source;
  }

  /** A serial for a new TCP connection (part of its records' ids). */
  newConnection(): number {
    return ++this.serial;
  }

  values(): IterableIterator<SyslogSource> {
    return this.sources.values();
  }

  get size(): number {
    return this.sources.size;
  }
}
