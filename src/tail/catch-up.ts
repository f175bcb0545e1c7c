/**
 * A file far behind, visible in the log: a file far behind (a first
 * start on big logs, a long Kafka outage) is said once with the bytes to
 * read and the time that takes at the rate measured, then progress every
 * 30 s, then "caught up" once.
 *
 * Far behind: more than 64 MiB between the next line to read and the
 * file's end. At the end-to-end rate the README measures (~45 MB/s of
 * `combined` lines on one core) that is 1.5 s and more of reading: below
 * it, a catch-up (a restart, a short outage) is over before anyone could
 * read the log line, and saying so at every restart would be noise. The
 * estimate needs a rate, so the first line comes after a second of
 * reading, from what was read in that second.
 *
 * Costs nothing per line: sizes are looked at when the tailer looks anyway
 * (adopting a file, its poll check, a read reaching the end); a timer runs
 * only while a file is far behind.
 */
import bytes from 'bytes-iec';
import ms from 'ms';
import type { Logger } from '../observe/logger.ts';

export interface CatchUpSettings {
  /** More than this many bytes to read: far behind. */
  farBehindBytes: number;
  /** The first line (with the estimate) after this much reading. */
  estimateAfterMs: number;
  /** Then progress this often until caught up. */
  progressEveryMs: number;
}

export const CATCH_UP: CatchUpSettings = { farBehindBytes: 64 * 2 ** 20, estimateAfterMs: 1000, progressEveryMs: 30_000 };

/** What the watch reads of a followed file (TailedFile). */
export interface CatchUpFile {
  readonly path: string;
  /** The offset after the last line handed over. */
  readonly position: number;
  /** Its size when last seen. */
  readonly size: number;
  readonly readOffset: number;
}

interface Watch {
  since: number;
  from: number;
  /** Bytes to read when found far behind. */
  behindAtStart: number;
  /** Where the last line (estimate or progress) was taken. */
  lastAt: number;
  lastPosition: number;
  told: boolean;
  timer: NodeJS.Timeout | undefined;
}

const size = (n: number): string => bytes.format(Math.max(0, Math.round(n)), { mode: 'binary', unitSeparator: ' ' }) ?? `${n} B`;

export class CatchUp {
  private readonly log: Logger;
  private readonly settings: CatchUpSettings;
  private readonly watches = new Map<CatchUpFile, Watch>();

  constructor(log: Logger, settings: CatchUpSettings = CATCH_UP) {
    this.log = log;
    this.settings = settings;
  }

  /** The file's size was looked at (adopted, checked): far behind, a watch starts. */
  seen(file: CatchUpFile): void {
    if (this.watches.has(file) || this.behind(file) <= this.settings.farBehindBytes) return;
    const now = Date.now();
    const watch: Watch = { since: now, from: file.position, behindAtStart: this.behind(file), lastAt: now, lastPosition: file.position, told: false, timer: undefined };
    this.watches.set(file, watch);
    this.arm(file, watch, this.settings.estimateAfterMs);
  }

  /** A read found the file's end: caught up, said once if far behind was said. */
  reachedEnd(file: CatchUpFile): void {
    const watch = this.watches.get(file);
    if (!watch) return;
    this.forget(file);
    if (!watch.told) return;
    const took = Date.now() - watch.since;
    this.log.info({ path: file.path, bytes_read: file.position - watch.from, took_ms: took }, `caught up: read ${size(file.position - watch.from)} of ${file.path} in ${ms(took)}`);
  }

  /** No longer followed (released, stopping). */
  forget(file: CatchUpFile): void {
    clearTimeout(this.watches.get(file)?.timer);
    this.watches.delete(file);
  }

  stop(): void {
    for (const file of [...this.watches.keys()]) this.forget(file);
  }

  private behind(file: CatchUpFile): number {
    return Math.max(file.size, file.readOffset) - file.position;
  }

  private arm(file: CatchUpFile, watch: Watch, inMs: number): void {
    watch.timer = setTimeout(() => this.report(file, watch), inMs);
    watch.timer.unref();
  }

  private report(file: CatchUpFile, watch: Watch): void {
    const now = Date.now();
    const behind = this.behind(file);
    // The rate since the last line: what the next minutes will be like, more than the average since the start.
    const rate = ((file.position - watch.lastPosition) * 1000) / Math.max(1, now - watch.lastAt);
    const eta = rate > 0 ? Math.ceil((behind / rate) * 1000) : undefined;
    const done = file.position - watch.from;
    const fields = { path: file.path, bytes_behind: behind, read_bytes_per_s: Math.round(rate), eta_ms: eta };
    const pace = eta === undefined ? 'not reading now (the pipeline is full: Kafka slow or unreachable?)' : `about ${ms(eta)} to catch up at ${size(rate)}/s`;
    if (!watch.told) {
      watch.told = true;
      this.log.info({ ...fields, bytes_behind_at_start: watch.behindAtStart }, `far behind: ${size(watch.behindAtStart)} of ${file.path} to read when found, ${size(behind)} left, ${pace}`);
    } else {
      const percent = Math.floor((done * 100) / Math.max(1, done + behind));
      this.log.info({ ...fields, bytes_read: done, percent }, `catching up: ${percent}% of ${file.path}, ${size(behind)} to read, ${pace}`);
    }
    watch.lastAt = now;
    watch.lastPosition = file.position;
    this.arm(file, watch, this.settings.progressEveryMs);
  }
}
