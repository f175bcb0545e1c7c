/**
 * What the tailer reports, in one place (as Vector's internal_events): each
 * event is a log line and its counter, so the tailer's code says what
 * happened and not how it is told. One line per file event, never per line
 * read (long lines excepted: they are rare and each is a data problem).
 */
import type { Logger } from '../observe/logger.ts';
import type { InputCounters } from '../observe/stats.ts';
import type { FileSource } from './types.ts';

export interface FileRef {
  path: string;
  key: string;
}

export class TailEvents {
  /** The input's counters. */
  private readonly counters: InputCounters;
  private readonly log: Logger;

  constructor(counters: InputCounters, log: Logger) {
    this.counters = counters;
    this.log = log;
  }

  following(file: FileRef, offset: number, from: string, id: string): void {
    this.counters.files_opened++;
    this.log.info({ path: file.path, key: file.key, offset, from, ...(id !== file.key ? { id } : {}) }, 'following file');
  }

  /** A file found by its identity away from where the glob or its checkpoint put it. */
  recovered(file: FileRef, lastPath: string, offset: number, size: number): void {
    this.counters.files_recovered++;
    this.log.info({ path: file.path, key: file.key, last_seen_at: lastPath, offset, unread_bytes: size - offset }, 'found a followed file again where rotation moved it; reading it to its end');
  }

  skipped(path: string, why: string): void {
    this.log.info({ path, why }, 'file not read');
  }

  compressed(path: string, compression: string): void {
    this.counters.compressed_files_skipped++;
    this.log.info({ path, compression }, 'compressed file not read (its lines are not plain text)');
  }

  waitingForFirstLine(path: string): void {
    this.log.info({ path }, 'file found; waiting for its first line');
  }

  noMatch(paths: string[]): void {
    this.log.warn({ paths }, 'no file matches yet; waiting for one to appear');
  }

  renamed(key: string, from: string, to: string): void {
    this.log.info({ key, from, to }, 'file renamed');
  }

  detached(file: FileRef, how: 'rotated' | 'deleted'): void {
    this.counters.rotations++;
    this.log.info({ path: file.path, key: file.key }, how === 'rotated' ? 'file rotated; draining the old one' : 'file deleted; draining it');
  }

  /** Truncated (copytruncate): the rest of its old content comes from `copy`, if there is one; `lost` bytes were seen and are in neither. */
  truncated(file: FileRef, offset: number, copy: string | undefined, lost: number): void {
    this.counters.truncations++;
    if (lost > 0) this.lost(file, lost, 'truncated before its end was read, and no copy holds the rest');
    this.log.warn(
      { path: file.path, offset, copy },
      copy ? 'file truncated; draining the rest from its copy, then reading the new content' : 'file truncated; reading the new content from the start',
    );
  }

  /** Bytes of a followed file that nobody can read any more. */
  lost(file: FileRef, bytes: number, why: string): void {
    this.counters.lost_files++;
    this.counters.lost_bytes += bytes;
    this.log.error({ path: file.path, key: file.key, lost_bytes: bytes, why }, 'lines lost: a followed file is gone before it was read to its end');
  }

  /** A checkpoint dropped because its file is gone, read to its end (logrotate deleting the oldest: about one line per file a day). */
  forgotten(file: FileRef): void {
    this.log.info({ path: file.path, key: file.key }, 'file gone after it was read to its end; checkpoint forgotten');
  }

  released(file: FileRef, offset: number, why: string): void {
    this.log.info({ path: file.path, key: file.key, offset, why }, 'released file');
  }

  closedForBudget(): void {
    this.counters.files_closed_idle++;
  }

  openFailed(path: string, err: unknown): void {
    this.counters.open_errors++;
    this.log.warn({ err, path }, 'cannot open file; will retry at the next scan');
  }

  readFailed(path: string, err: unknown): void {
    this.counters.read_errors++;
    this.log.error({ err, path }, 'read failed; retrying at the next poll');
  }

  locateFailed(path: string, problem: string): void {
    this.log.warn({ path, problem }, 'cannot look for a followed file where rotation may have moved it; will retry');
  }

  longLine(file: FileSource, truncated: boolean, maxLineBytes: number): void {
    this.counters[truncated ? 'lines_truncated' : 'lines_too_long_skipped']++;
    this.log.warn({ path: file.path, max_line_bytes: maxLineBytes }, truncated ? 'line too long; truncated' : 'line too long; skipped');
  }

  partialFlushed(): void {
    this.counters.partial_lines_flushed++;
  }

  paused(): void {
    this.counters.backpressure_pauses++;
  }

  bytesRead(n: number): void {
    this.counters.bytes_read += n;
  }

  pollFailed(err: unknown): void {
    this.log.error({ err }, 'poll failed');
  }
}
