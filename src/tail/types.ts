import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';

/** What the pipeline sees of a followed file. */
export interface FileSource {
  /** Stable identity of the file (survives renames). */
  readonly key: string;
  /** Prefix of its records' ids: its key, or, for a copytruncate copy, its original's (a line keeps its id). */
  readonly id: string;
  /** Where the file was last seen. */
  path: string;
  /** Orders this file's acks and holds its committed offset. */
  readonly tracker: OffsetTracker;
  /** The record's `source` object for this file (host, path, input, pod...). */
  source: Readonly<Record<string, string>>;
  /** The same, serialised once per file rather than once per line. */
  sourceJson: string;
}

/**
 * Receives complete lines. `buf[start, end)` is the line without its line
 * ending (valid only during the call); `lineOffset` is where the line starts
 * in the file and `nextOffset` where the next line starts. Returns false when
 * the pipeline is full: the tailer stops reading until resume() is called.
 */
export interface LineSink {
  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean;
  /** The file is done (drained after a rotation): ship whatever is still held for it. */
  flush?(file: FileSource): boolean;
}

/** A followed file's progress, for the lag metrics. */
export interface FileState {
  path: string;
  input: string;
  /** Its last seen size (or how far it was read, if more). */
  size: number;
  /** Its checkpoint: the end of the lines delivered. */
  committed: number;
  /** Since when (ms since the epoch) the bytes past `committed` have waited; undefined when there are none. */
  waitingSince: number | undefined;
}
