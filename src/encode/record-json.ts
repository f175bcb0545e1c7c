import type { LogRecord } from '../parse/types.ts';

/**
 * The `source` object of every record from one file, serialised once per
 * file rather than once per line.
 */
export function sourceJson(host: string, path: string, input: string, extra?: object): string {
  return JSON.stringify({ host, path, input, ...extra });
}

/** A parsed record as the Kafka message value: the record's keys, then `source`. */
export function recordJson(record: LogRecord, source: string): string {
  const json = JSON.stringify(record);
  // Splice `source` in before the closing brace instead of copying the record into a new object.
  return json.length === 2 ? `{"source":${source}}` : `${json.slice(0, -1)},"source":${source}}`;
}

/** A line that did not parse, shipped as-is with the reason (on_error: raw / dead_letter). */
export function failedLineJson(raw: string, reason: string, source: string): string {
  return `{"_raw":${JSON.stringify(raw)},"_error":${JSON.stringify(reason)},"source":${source}}`;
}

/**
 * A record's stable id: the file's identity and the byte offset where the
 * line starts. The same line gets the same id on every re-send, so a
 * consumer can drop duplicates.
 */
export function recordId(fileKey: string, lineOffset: number): string {
  return `${fileKey}:${lineOffset}`;
}

export const RECORD_ID_HEADER = 'logship-id';
