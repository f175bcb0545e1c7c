import type { LogRecord } from '../parse/types.ts';

/** The `source` object of every record from one file: where it was read, plus pod metadata in Kubernetes. */
export function sourceOf(host: string, path: string, input: string, extra?: object): Record<string, string> {
  const source: Record<string, string> = { host, path, input };
  if (extra) for (const [key, value] of Object.entries(extra)) if (typeof value === 'string') source[key] = value;
  return source;
}

/** A parsed record as the Kafka message value: the record's keys, then `source`. */
export function recordJson(record: LogRecord, source: string): string {
  return withSource(JSON.stringify(record), source);
}

/** A record's JSON (`JSON.stringify` of it) with `source` spliced in before the closing brace, instead of copying the record into a new object. */
export function withSource(json: string, source: string): string {
  return json.length === 2 ? `{"source":${source}}` : `${json.slice(0, -1)}${sourceTail(source)}`;
}

/** What follows a record's last field: `source`, and the closing brace (the hot path writes it as bytes in place of the record's brace). */
export function sourceTail(source: string): string {
  return `,"source":${source}}`;
}

/** A line that did not parse (or could not be sent), shipped as-is with the reason (on_error: raw / dead_letter). */
export function failedLineJson(raw: string, reason: string, source: string): string {
  return `{"_raw":${JSON.stringify(raw)},"_error":${JSON.stringify(reason)},"source":${source}}`;
}

/** Appends `"_id":<id>` to a JSON object: in ndjson messages each line carries its own id. */
export function withId(json: string, id: string): string {
  return `${json.slice(0, -1)},"_id":"${id}"}`;
}

/**
 * A record's stable id: the file's identity and the byte offset where the
 * line starts. The same line gets the same id on every re-send, so a
 * consumer can drop duplicates.
 */
export function recordId(fileKey: string, lineOffset: number): string {
  return `${recordIdPrefix(fileKey)}${lineOffset}`;
}

/** What every record id of a file starts with: the offset follows (the hot path writes it as bytes). */
export function recordIdPrefix(fileKey: string): string {
  return `${fileKey}:`;
}

export const RECORD_ID_HEADER = 'logship-id';
export const HOST_HEADER = 'logship-host';
export const PATH_HEADER = 'logship-path';
