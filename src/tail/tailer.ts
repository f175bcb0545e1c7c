import { open, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import type { InputConfig } from '../config/types.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { Discovery } from './discovery.ts';
import { identityKey, sameInode } from './file-identity.ts';
import { readFingerprint } from './fingerprint.ts';
import { findRotatedCopy, isCopyName } from './rotated-copy.ts';
import { OpenFiles } from './open-files.ts';
import { TailedFile, type LineLimits } from './tailed-file.ts';
import type { FileSource, LineSink } from './types.ts';

const READ_BUFFER_BYTES = 256 * 1024;

export interface TailerDeps {
  sink: LineSink;
  checkpoints: CheckpointStore;
  stats: Stats;
  log: Logger;
  /** The record's `source` object for a file at `path`. */
  source(path: string): Record<string, string>;
}

/**
 * Follows the files of one input: finds them, reads appended lines in
 * order, notices rotation and truncation, bounds open descriptors, and
 * pauses when the sink is full. Reads are serialised through one queue and
 * one buffer: the agent is CPU-bound on one thread anyway, and it bounds
 * memory to one read buffer per input.
 */
export class Tailer {
  private readonly input: InputConfig;
  private readonly deps: TailerDeps;
  private readonly log: Logger;
  private readonly discovery: Discovery;
  /** Every followed file (open or closed), by identity. */
  private readonly files = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  /** `<dev>:<ino>` → file: a rename is found without reading a fingerprint. */
  private readonly byInode = new Map<string, TailedFile>();
  /** Matching files whose first line is not complete yet (no identity). */
  private readonly pending = new Set<string>();
  private readonly opening = new Set<string>();
  private identifying: Promise<void> = Promise.resolve();
  private readonly ready = new Set<TailedFile>();
  private readonly openFiles: OpenFiles;
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
    this.openFiles = new OpenFiles(input.max_open_files, () => deps.stats.inc('files_closed_idle'));
    this.discovery = new Discovery(
      { paths: input.paths, exclude: input.exclude, scanIntervalMs: input.scan_interval_ms },
      { found: (path) => this.found(path), changed: (path) => this.changed(path) },
      this.log,
    );
  }

  async start(): Promise<void> {
    await this.discovery.start(); // resolves once the files present now are followed
    // Files present at start-up without a checkpoint honour start_at; later ones are new files, read whole.
    this.started = true;
    this.pollTimer = setInterval(() => void this.poll(), this.input.poll_interval_ms);
    if (this.files.size === 0 && this.pending.size === 0) {
      this.log.warn({ paths: this.input.paths }, 'no file matches yet; waiting for one to appear');
    }
  }

  /** Lets reading go on after the sink said it was full. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  /** Whether this tailer follows the file with this identity (its checkpoint is live). */
  isFollowing(key: string): boolean {
    return this.files.has(key);
  }

  /** Followed files with their last seen size and committed offset, for the lag metric. */
  *fileStates(): Iterable<{ path: string; input: string; size: number; committed: number }> {
    for (const file of this.files.values()) yield { path: file.path, input: this.input.name, size: Math.max(file.size, file.position), committed: file.tracker.committed };
  }

  get openDescriptors(): number {
    let detached = 0;
    for (const file of this.files.values()) if (file.detached && file.handle) detached++;
    return this.openFiles.size + detached;
  }

  /**
   * A matching path exists. Identification (open, fingerprint, adopt) runs
   * one path at a time: a scan of thousands of files must not open them all
   * at once, past the descriptor budget.
   */
  private found(path: string): Promise<void> {
    if (this.stopped || this.opening.has(path) || !this.discovery.matches(path)) return Promise.resolve();
    this.opening.add(path);
    return this.serially(async () => {
      try {
        if (!this.stopped) await this.identify(path);
      } catch (err) {
        this.deps.stats.inc('open_errors');
        this.log.warn({ err, path }, 'cannot open file; will retry at the next scan');
      } finally {
        this.opening.delete(path);
      }
    });
  }

  /** Runs changes to the set of followed files one at a time, in order. */
  private serially(task: () => Promise<void>): Promise<void> {
    const done = this.identifying.then(task);
    this.identifying = done;
    return done;
  }

  private async identify(path: string): Promise<void> {
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile()) {
      this.pending.delete(path);
      return;
    }
    const known = this.byInode.get(`${stats.dev}:${stats.ino}`);
    // An open descriptor pins the inode, so a known open file at a new path is a rename.
    if (known?.handle && !known.released) {
      if (known.path !== path) this.renamed(known, path);
      return;
    }
    const ignoreOlder = this.input.ignore_older_ms;
    if (ignoreOlder > 0 && stats.mtimeMs < Date.now() - ignoreOlder && !this.hasCheckpointFor(stats)) {
      this.pending.delete(path);
      return;
    }
    const handle = await open(path, 'r');
    let adopted = false;
    try {
      const opened = await handle.stat(); // the inode may have changed between stat and open: trust the descriptor
      const fingerprint = await readFingerprint(handle, this.input.fingerprint_bytes);
      if (fingerprint === undefined) {
        // Retried at each poll until the first line is complete: the fingerprint needs it.
        if (!this.pending.has(path)) this.log.info({ path }, 'file found; waiting for its first line');
        this.pending.add(path);
        return;
      }
      this.pending.delete(path);
      const key = identityKey(opened, fingerprint);
      const same = this.files.get(key);
      if (same) {
        // A closed file found again: at its old path it will be reopened when read; at a new one it was renamed.
        if (same.path !== path) this.renamed(same, path);
        return;
      }
      if (this.stopped) return;
      // A copy (copytruncate) of a file we follow, matched by the glob too: what the original shipped is not shipped again.
      const original = this.originalOfCopy(path, fingerprint);
      this.adopt(path, key, handle, opened.size, original ? Math.min(original.position, opened.size) : undefined);
      adopted = true;
    } finally {
      if (!adopted) await handle.close();
    }
  }

  /**
   * A copy made (copytruncate) while the agent was down carries the old
   * content under a new inode: it resumes from the checkpoint of the file
   * it was copied from (same first line, named after it), not from 0.
   */
  private checkpointOfOriginal(path: string, key: string, size: number): number | undefined {
    const fingerprint = fingerprintOfKey(key);
    for (const other of this.deps.checkpoints.keys()) {
      if (other === key || fingerprintOfKey(other) !== fingerprint) continue;
      const checkpoint = this.deps.checkpoints.get(other)!;
      if (isCopyName(checkpoint.path, path) && checkpoint.offset <= size) return checkpoint.offset;
    }
    return undefined;
  }

  /** The followed file that `path` is a logrotate copy of (access.log for access.log.1): its name's prefix, same first line. */
  private originalOfCopy(path: string, fingerprint: string): TailedFile | undefined {
    for (let i = path.length - 1; i > 0 && path[i] !== sep; i--) {
      if (path[i] !== '.' && path[i] !== '-') continue;
      const original = this.byPath.get(path.slice(0, i));
      if (original && fingerprintOfKey(original.key) === fingerprint && isCopyName(original.path, path)) return original;
    }
    return undefined;
  }

  private hasCheckpointFor(stats: { dev: number; ino: number }): boolean {
    for (const key of this.deps.checkpoints.keys()) if (sameInode(key, stats)) return true;
    return false;
  }

  /** Follows a newly identified file; `at` (a rotated copy's resume point) overrides the start rules. */
  private adopt(path: string, key: string, handle: FileHandle, size: number, at?: number, detached = false): void {
    const checkpoint = this.deps.checkpoints.get(key);
    let position: number;
    let from: string;
    const original = checkpoint ? undefined : this.checkpointOfOriginal(path, key, size);
    if (checkpoint && checkpoint.offset <= size) {
      position = checkpoint.offset;
      from = 'checkpoint';
    } else if (original !== undefined) {
      position = original;
      from = 'checkpoint of the file it is a copy of';
    } else if (at !== undefined) {
      position = at;
      from = 'copy of a truncated file';
    } else if (checkpoint) {
      position = 0;
      from = 'shorter than its checkpoint';
    } else if (!this.started && this.input.start_at === 'end') {
      position = size;
      from = 'end';
    } else {
      position = 0;
      from = 'beginning';
    }
    const tracker = new OffsetTracker(position, (t) => {
      if (!file.released) this.deps.checkpoints.set(key, file.path, t.committed);
    });
    const file = new TailedFile(key, path, handle, position, tracker, this.deps.source(path));
    this.files.set(key, file);
    this.byInode.set(inodeOf(key), file);
    file.detached = detached;
    if (!detached) {
      this.byPath.set(path, file);
      this.openFiles.touch(file);
    }
    this.deps.checkpoints.set(key, path, position);
    this.deps.stats.inc('files_opened');
    this.log.info({ path, key, offset: position, from }, 'following file');
    this.schedule(file);
  }

  private renamed(file: TailedFile, path: string): void {
    this.log.info({ key: file.key, from: file.path, to: path }, 'file renamed');
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    file.path = path;
    file.setSource(this.deps.source(path));
    if (file.detached) {
      file.detached = false;
      this.openFiles.touch(file);
    }
    this.byPath.set(path, file);
    this.deps.checkpoints.set(file.key, path, file.tracker.committed);
  }

  private changed(path: string): void {
    const file = this.byPath.get(path);
    if (file) this.schedule(file);
    else void this.found(path);
  }

  private schedule(file: TailedFile): void {
    file.wanted = true;
    this.ready.add(file);
    this.pump();
  }

  /** Drains the ready queue, one file at a time, until it is empty or the sink is full. */
  private pump(): void {
    if (this.pumping || this.paused || this.stopped || this.ready.size === 0) return;
    // .finally runs in a later tick, so `pumping` is always set before it is cleared.
    this.pumping = this.drainReady().finally(() => {
      this.pumping = undefined;
      this.pump(); // files scheduled while the last one was being read
    });
  }

  private async drainReady(): Promise<void> {
    while (!this.paused && !this.stopped && this.ready.size > 0) {
      const file: TailedFile = this.ready.values().next().value!;
      file.wanted = false;
      let outcome;
      try {
        if (!(await this.ensureOpen(file))) {
          this.ready.delete(file);
          continue;
        }
        const before = file.position;
        // One small pread per chunk read (not per line): never ship new content at an old offset.
        outcome = await file.read(this.buf, this.deps.sink, this.limits, this.longLineCounter, () => this.sameContent(file));
        this.deps.stats.inc('bytes_read', file.position - before);
      } catch (err) {
        this.deps.stats.inc('read_errors');
        this.log.error({ err, path: file.path }, 'read failed; retrying at the next poll');
        this.ready.delete(file);
        continue;
      }
      if (outcome === 'changed') {
        await this.truncated(file);
      } else if (outcome === 'full') {
        this.paused = true;
        this.deps.stats.inc('backpressure_pauses');
      } else if (!file.wanted) {
        this.ready.delete(file); // unless asked again while it was being read
      }
    }
  }

  /** Reopens a file closed for the descriptor budget, if its path still holds it. */
  private async ensureOpen(file: TailedFile): Promise<boolean> {
    if (file.released) return false;
    if (file.handle) {
      if (!file.detached) this.openFiles.touch(file);
      return true;
    }
    const handle = await open(file.path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err; // EMFILE and the like: the read fails now and is retried at the next poll
    });
    if (handle) {
      const stats = await handle.stat();
      const fingerprint = sameInode(file.key, stats) ? await readFingerprint(handle, this.input.fingerprint_bytes) : undefined;
      if (fingerprint !== undefined && identityKey(stats, fingerprint) === file.key) {
        file.reopen(handle);
        this.openFiles.touch(file);
        return true;
      }
      await handle.close();
    }
    // Rotated away while closed: its path holds another file now. Found again by a glob, it resumes at its checkpoint.
    this.log.warn({ path: file.path, key: file.key }, 'closed file no longer at its path; releasing it');
    await this.release(file, 'moved while closed');
    return false;
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
      for (const path of this.pending) await this.found(path);
      for (const file of this.files.values()) await this.check(file);
    } catch (err) {
      this.log.error({ err }, 'poll failed');
    } finally {
      this.polling = false;
    }
  }

  private async check(file: TailedFile): Promise<void> {
    if (file.released) return;
    let size: number;
    if (file.handle) {
      size = (await file.handle.stat().catch(() => undefined))?.size ?? -1;
      if (size < 0) return;
    } else {
      const current = await stat(file.path).catch(() => undefined);
      if (!current || !sameInode(file.key, current)) {
        await this.release(file, 'moved while closed');
        if (current) void this.found(file.path);
        return;
      }
      size = current.size;
    }
    file.size = size;
    const unread = file.unread(size);
    // The fingerprint too, every poll: a copytruncate of a file read to its end (or not read at all) keeps the size.
    if (unread < 0 || !(await this.sameContent(file))) {
      await this.truncated(file);
      return;
    }
    if (unread > 0) {
      this.schedule(file);
      return;
    }
    const quiet = Date.now() - file.lastGrowthAt;
    // Container runtimes always end their lines: a half wrapper line is not worth shipping.
    const flushAfter = this.input.container === 'none' ? this.input.partial_line_flush_ms : 0;
    if (file.hasPartial && flushAfter > 0 && quiet >= flushAfter && !file.detached) {
      this.deps.stats.inc('partial_lines_flushed');
      if (!file.flushPartial(this.deps.sink, this.limits)) this.paused = true;
    }
    if (!file.detached && file.handle) {
      const current = await stat(file.path).catch(() => undefined);
      if (!current || !sameInode(file.key, current)) {
        file.detached = true;
        file.detachedAt = Date.now();
        this.openFiles.forget(file); // keep it open: a rotated file cannot be reopened by path
        if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
        this.deps.stats.inc('rotations');
        this.log.info({ path: file.path, key: file.key }, current ? 'file rotated; draining the old one' : 'file deleted; draining it');
        if (current) void this.found(file.path);
      }
    }
    // rotate_wait counts from the rotation too: nginx writes to the old file until it reopens, even after a quiet spell.
    const drained = Date.now() - Math.max(file.lastGrowthAt, file.detachedAt) >= this.input.rotate_wait_ms;
    if (file.detached && drained && file.tracker.pending === 0 && !this.ready.has(file)) {
      // Its last line never got a newline and never will: ship it (and what the sink holds) rather than lose it.
      if (file.hasPartial && !file.flushPartial(this.deps.sink, this.limits)) this.paused = true;
      if (this.deps.sink.flush && !this.deps.sink.flush(file)) this.paused = true;
      await this.release(file, 'drained');
    }
  }

  /** Whether the file still starts with the first line it had (a copytruncate that regrew past us does not). */
  private async sameContent(file: TailedFile): Promise<boolean> {
    if (!file.handle) return true;
    const fingerprint = await readFingerprint(file.handle, this.input.fingerprint_bytes);
    return fingerprint === fingerprintOfKey(file.key);
  }

  /**
   * Truncated (copytruncate) or rewritten: what is there now is a new file.
   * The lines not read yet live on in logrotate's copy, if there is one:
   * it is drained from where reading stopped, then released.
   */
  private async truncated(file: TailedFile): Promise<void> {
    if (file.released) return; // seen by the poll and a read at once
    file.released = true; // no more reads; it stays findable (byPath) until released in turn below
    this.deps.stats.inc('truncations');
    const path = file.path;
    // In turn with discovery, which may be adopting the same copy through a glob right now.
    await this.serially(async () => {
      const fingerprint = fingerprintOfKey(file.key);
      const copy = await findRotatedCopy(path, file.key, fingerprint, file.position, this.input.fingerprint_bytes).catch(() => undefined);
      this.log.warn({ path, offset: file.position, copy: copy?.path }, copy ? 'file truncated; draining the rest from its copy, then reading the new content' : 'file truncated; reading the new content from the start');
      await this.release(file, 'truncated');
      this.deps.checkpoints.delete(file.key);
      if (!copy) return;
      const copyKey = identityKey(copy.stats, fingerprint);
      if (this.files.has(copyKey) || this.stopped) await copy.handle.close(); // a glob follows the copy already
      else this.adopt(copy.path, copyKey, copy.handle, copy.stats.size, file.position, true);
    });
    void this.found(path);
  }

  private async release(file: TailedFile, why: string): Promise<void> {
    file.released = true;
    this.files.delete(file.key);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    if (this.byInode.get(inodeOf(file.key)) === file) this.byInode.delete(inodeOf(file.key));
    this.openFiles.forget(file);
    this.ready.delete(file);
    await file.closeHandle();
    this.log.info({ path: file.path, key: file.key, offset: file.position, why }, 'released file');
  }

  /** Stops reading (shipping partial last lines first when `flush_partial_on_stop`); lines handed over keep flowing. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    await this.discovery.stop();
    await this.pumping;
    await this.identifying; // a hand-over to a copy under way must finish before the files close
    for (const file of this.files.values()) {
      if (this.input.flush_partial_on_stop && this.input.container === 'none' && file.hasPartial) file.flushPartial(this.deps.sink, this.limits);
      await file.closeHandle();
    }
    this.files.clear();
    this.byPath.clear();
    this.byInode.clear();
  }
}

function inodeOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':'));
}

function fingerprintOfKey(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}
