import { open, stat } from 'node:fs/promises';
import type { InputConfig } from '../config/types.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { Discovery } from './discovery.ts';
import { fileKey } from './file-identity.ts';
import { TailedFile, type LineLimits } from './tailed-file.ts';
import type { FileSource, LineSink } from './types.ts';

const READ_BUFFER_BYTES = 256 * 1024;

export interface TailerDeps {
  sink: LineSink;
  checkpoints: CheckpointStore;
  stats: Stats;
  log: Logger;
  /** JSON of the record's `source` object for a file at `path`. */
  sourceJson(path: string): string;
}

/**
 * Follows the files of one input: finds them, reads appended lines in
 * order, notices rotation and truncation, and pauses when the sink is full.
 * Reads are serialised through one queue and one buffer: the agent is
 * CPU-bound on one thread anyway, and it bounds memory to one read buffer.
 */
export class Tailer {
  private readonly input: InputConfig;
  private readonly deps: TailerDeps;
  private readonly log: Logger;
  private readonly discovery: Discovery;
  private readonly files = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly opening = new Set<string>();
  private readonly ready = new Set<TailedFile>();
  private readonly buf: Buffer;
  private readonly limits: LineLimits;
  private pumping: Promise<void> | undefined;
  private paused = false;
  private stopped = false;
  private started = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(input: InputConfig, deps: TailerDeps) {
    this.input = input;
    this.deps = deps;
    this.log = deps.log.child({ input: input.name });
    this.limits = { maxLineBytes: input.max_line_bytes, truncate: input.on_long_line === 'truncate' };
    this.buf = Buffer.allocUnsafe(Math.max(READ_BUFFER_BYTES, input.max_line_bytes + 2));
    this.discovery = new Discovery(
      { paths: input.paths, exclude: input.exclude, scanIntervalMs: input.scan_interval_ms },
      { found: (path) => void this.found(path), changed: (path) => this.changed(path) },
      this.log,
    );
  }

  async start(): Promise<void> {
    await this.discovery.start();
    // Files present at start-up without a checkpoint honour start_at; later ones are new files, read whole.
    this.started = true;
    this.pollTimer = setInterval(() => void this.poll(), this.input.poll_interval_ms);
    if (this.files.size === 0 && this.opening.size === 0) {
      this.log.warn({ paths: this.input.paths }, 'no file matches yet; waiting for one to appear');
    }
  }

  /** Lets reading go on after the sink said it was full. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  private async found(path: string): Promise<void> {
    if (this.stopped || this.opening.has(path) || !this.discovery.matches(path)) return;
    this.opening.add(path);
    try {
      const stats = await stat(path).catch(() => undefined);
      if (!stats?.isFile()) return;
      const key = fileKey(stats);
      const known = this.files.get(key);
      if (known) {
        if (known.path !== path) this.renamed(known, path);
        return;
      }
      await this.openFile(path, key);
    } finally {
      this.opening.delete(path);
    }
  }

  private renamed(file: TailedFile, path: string): void {
    this.log.info({ key: file.key, from: file.path, to: path }, 'file renamed');
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    file.path = path;
    file.sourceJson = this.deps.sourceJson(path);
    file.detached = false;
    this.byPath.set(path, file);
  }

  private async openFile(path: string, key: string): Promise<void> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      this.deps.stats.inc('open_errors');
      this.log.warn({ err, path }, 'cannot open file; will retry at the next scan');
      return;
    }
    // The inode may have been replaced between stat and open: trust the descriptor.
    const opened = await handle.stat();
    if (fileKey(opened) !== key || this.files.has(fileKey(opened)) || this.stopped) {
      await handle.close();
      if (!this.stopped) void this.found(path);
      return;
    }
    const checkpoint = this.deps.checkpoints.get(key);
    let position: number;
    let from: string;
    if (checkpoint && checkpoint.offset <= opened.size) {
      position = checkpoint.offset;
      from = 'checkpoint';
    } else if (checkpoint) {
      position = 0;
      from = 'truncated while stopped';
    } else if (!this.started && this.input.start_at === 'end') {
      position = opened.size;
      from = 'end';
    } else {
      position = 0;
      from = 'beginning';
    }
    const tracker = new OffsetTracker(position, (t) => this.deps.checkpoints.set(key, file.path, t.committed));
    const file = new TailedFile(key, path, handle, position, tracker, this.deps.sourceJson(path));
    this.files.set(key, file);
    this.byPath.set(path, file);
    this.deps.checkpoints.set(key, path, position);
    this.deps.stats.inc('files_opened');
    this.log.info({ path, key, offset: position, from }, 'following file');
    this.schedule(file);
  }

  private changed(path: string): void {
    const file = this.byPath.get(path);
    if (file) this.schedule(file);
    else void this.found(path);
  }

  private schedule(file: TailedFile): void {
    this.ready.add(file);
    this.pump();
  }

  /** Drains the ready queue, one file at a time, until it is empty or the sink is full. */
  private pump(): void {
    if (this.pumping || this.paused || this.stopped) return;
    this.pumping = (async () => {
      try {
        while (!this.paused && !this.stopped && this.ready.size > 0) {
          const file: TailedFile = this.ready.values().next().value!;
          let outcome;
          try {
            outcome = await file.read(this.buf, this.deps.sink, this.limits, this.longLineCounter);
          } catch (err) {
            this.deps.stats.inc('read_errors');
            this.log.error({ err, path: file.path }, 'read failed; retrying at the next poll');
            this.ready.delete(file);
            continue;
          }
          if (outcome === 'full') {
            this.paused = true;
            this.deps.stats.inc('backpressure_pauses');
          } else {
            this.ready.delete(file);
          }
        }
      } finally {
        this.pumping = undefined;
      }
    })();
  }

  private readonly longLineCounter = {
    longLine: (file: FileSource, truncated: boolean) => {
      this.deps.stats.inc(truncated ? 'lines_truncated' : 'lines_too_long_skipped');
      this.log.warn({ path: file.path, max_line_bytes: this.input.max_line_bytes }, truncated ? 'line too long; truncated' : 'line too long; skipped');
    },
  };

  /** The safety net for growth, truncation and rotation that no event reported. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const file of this.files.values()) await this.check(file);
    } finally {
      this.polling = false;
    }
  }

  private async check(file: TailedFile): Promise<void> {
    let size: number;
    try {
      size = (await file.handle.stat()).size;
    } catch (err) {
      this.log.warn({ err, path: file.path }, 'stat of open file failed');
      return;
    }
    const unread = file.unread(size);
    if (unread < 0) {
      this.log.warn({ path: file.path, size, offset: file.position }, 'file truncated; reading from the start');
      this.deps.stats.inc('truncations');
      file.restart();
    }
    if (unread !== 0) {
      this.schedule(file);
      return;
    }
    if (!file.detached) {
      const current = await stat(file.path).catch(() => undefined);
      if (!current || fileKey(current) !== file.key) {
        file.detached = true;
        this.log.info({ path: file.path, key: file.key }, current ? 'file rotated; draining the old one' : 'file deleted; draining it');
        if (current) void this.found(file.path);
      }
    }
    const quiet = Date.now() - file.lastGrowthAt;
    if (file.detached && quiet >= this.input.rotate_wait_ms && file.tracker.pending === 0 && !this.ready.has(file)) {
      await this.release(file);
    }
  }

  private async release(file: TailedFile): Promise<void> {
    this.files.delete(file.key);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    await file.close();
    this.log.info({ path: file.path, key: file.key, offset: file.position }, 'released file');
  }

  /** Stops reading; lines already handed over keep flowing to Kafka. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    await this.discovery.stop();
    await this.pumping;
    for (const file of this.files.values()) await file.close();
    this.files.clear();
    this.byPath.clear();
  }

  /** Whether this tailer holds the file open (its checkpoint is live). */
  isOpen(key: string): boolean {
    return this.files.has(key);
  }
}
