import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { InputConfig } from '../config/types.ts';
import type { CheckpointStore, FileCheckpoint } from '../checkpoint/checkpoint-store.ts';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { Discovery } from './discovery.ts';
import { TailEvents } from './events.ts';
import { compressionOf, fingerprintOf, readFingerprint, readHead } from './fingerprint.ts';
import { fingerprintOfKey, identityKey, inodeOf, inodeOfStats, sameInode } from './identity.ts';
import { findCopy, isRotatedName, Listings, locate, mayBeCopyOf } from './locate.ts';
import { OpenFiles } from './open-files.ts';
import { lineStartsAt, samePrefix } from './prefix.ts';
import { CheckpointRecovery } from './recovery.ts';
import { decideResume, type Original, type Resume } from './resume.ts';
import { decideRotation } from './rotation.ts';
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
 *
 * Where a file starts is resume.ts's decision, what happened to a followed
 * file is rotation.ts's; finding files again that rotation moved while they
 * were not followed is recovery.ts's. This class keeps the maps and acts.
 *
 * Polling is the safety net, events come first: a file event (chokidar)
 * reads the file at once; the poll looks at a changing file every
 * poll_interval_ms and backs off to idle_poll_interval_ms while it stays
 * quiet, so thousands of idle files cost little.
 */
export class Tailer {
  private readonly input: InputConfig;
  private readonly deps: TailerDeps;
  private readonly events: TailEvents;
  private readonly discovery: Discovery;
  private readonly recovery: CheckpointRecovery;
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
  /** Paths found and left alone (compressed, or a copy read through its original), with why: told once. */
  private readonly leftAlone = new LRUCache<string, string>({ max: 10_000 });
  /** Inodes that had a checkpoint when this tailer was made: a new first line in one is new content. */
  private readonly knownInodes: ReadonlySet<string>;
  private readonly buf: Buffer;
  private readonly limits: LineLimits;
  private pumping: Promise<void> | undefined;
  private paused = false;
  private stopped = false;
  private started = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** After stop(): the files it followed, and those of them whose handed-over lines are not all acknowledged yet. */
  private retired: TailedFile[] = [];
  private readonly unsettled = new Set<TailedFile>();
  private settledWaiters: (() => void)[] = [];

  constructor(input: InputConfig, deps: TailerDeps) {
    this.input = input;
    this.deps = deps;
    const log = deps.log.child({ input: input.name });
    this.events = new TailEvents(deps.stats, log);
    this.limits = { maxLineBytes: input.max_line_bytes, truncate: input.on_long_line === 'truncate' };
    this.buf = Buffer.allocUnsafe(Math.max(READ_BUFFER_BYTES, input.max_line_bytes + 2));
    this.openFiles = new OpenFiles(input.max_open_files, () => this.events.closedForBudget());
    this.knownInodes = new Set([...deps.checkpoints.keys()].map(inodeOf));
    this.discovery = new Discovery(
      { paths: input.paths, exclude: input.exclude, scanIntervalMs: input.scan_interval_ms },
      {
        found: (path) => this.found(path),
        changed: (path) => this.changed(path),
        removed: (path) => this.removed(path),
        scanned: () => this.recovery.pass(),
      },
      log,
    );
    this.recovery = new CheckpointRecovery(input, deps.checkpoints, this.events, {
      following: (key) => this.files.has(key),
      followingInode: (inode) => this.byInode.has(inode),
      matches: (path) => this.discovery.matches(path),
      serially: (task) => this.serially(task),
      adopt: (path, key, handle, size, resume) => this.adopt(path, key, handle, size, resume),
      stopped: () => this.stopped,
    });
  }

  async start(): Promise<void> {
    await this.discovery.start(); // resolves once the files present now are followed
    // Then the files it followed before that the paths do not lead to any more (renamed, copied): read to their end.
    await this.recovery.pass();
    // Files present at start-up without a checkpoint honour start_at; later ones are new files, read whole.
    this.started = true;
    this.pollTimer = setInterval(() => void this.poll(), this.input.poll_interval_ms);
    if (this.files.size === 0 && this.pending.size === 0) this.events.noMatch(this.input.paths);
  }

  /** Lets reading go on after the sink said it was full. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  /** Whether a checkpoint is this input's to finish. */
  owns(entry: FileCheckpoint): boolean {
    return this.recovery.owns(entry);
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
        this.events.openFailed(path, err);
      } finally {
        this.opening.delete(path);
      }
    });
  }

  /** Runs changes to the set of followed files one at a time, in order. */
  private serially(task: () => Promise<void>): Promise<void> {
    const done = this.identifying.then(task);
    this.identifying = done.catch(() => undefined);
    return done;
  }

  private async identify(path: string): Promise<void> {
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile()) {
      this.pending.delete(path);
      return;
    }
    const inode = inodeOfStats(stats);
    const known = this.byInode.get(inode);
    // An open descriptor pins the inode, so a known open file at a new path is a rename.
    if (known?.handle && !known.released) {
      if (known.path !== path) this.renamed(known, path);
      return;
    }
    const ignoreOlder = this.input.ignore_older_ms;
    if (ignoreOlder > 0 && stats.mtimeMs < Date.now() - ignoreOlder && this.deps.checkpoints.ofInode(inode).length === 0) {
      this.pending.delete(path);
      return;
    }
    const handle = await open(path, 'r');
    let adopted = false;
    try {
      const opened = await handle.stat(); // the inode may have changed between stat and open: trust the descriptor
      const head = await readHead(handle, this.input.fingerprint_bytes);
      const compression = compressionOf(head);
      if (compression) {
        this.pending.delete(path);
        this.leaveAlone(path, `compressed (${compression})`, () => this.events.compressed(path, compression));
        return;
      }
      const fingerprint = fingerprintOf(head, this.input.fingerprint_bytes);
      if (fingerprint === undefined) {
        // Retried at each poll until the first line is complete: the fingerprint needs it.
        if (!this.pending.has(path)) this.events.waitingForFirstLine(path);
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
      const resume = await this.resumeOf(path, key, handle, opened.size);
      if (!resume.follow) {
        this.leaveAlone(path, resume.why, () => this.events.skipped(path, resume.why));
        return;
      }
      this.leftAlone.delete(path);
      this.adopt(path, key, handle, opened.size, resume);
      adopted = true;
    } finally {
      if (!adopted) await handle.close();
    }
  }

  /** Tells once per path and reason why a matching file is not read. */
  private leaveAlone(path: string, why: string, tell: () => void): void {
    if (this.leftAlone.get(path) === why) return;
    this.leftAlone.set(path, why);
    tell();
  }

  /** Gathers what resume.ts needs to know about a newly identified file. */
  private async resumeOf(path: string, key: string, handle: FileHandle, size: number): Promise<Resume> {
    const checkpoint = this.deps.checkpoints.get(key);
    const original = checkpoint ? undefined : await this.originalOf(path, key, handle);
    const lineStarts = original?.state === 'gone' && original.offset <= size ? await lineStartsAt(handle, original.offset) : undefined;
    return decideResume({
      size,
      checkpoint,
      original,
      lineStartsAtOriginalOffset: lineStarts,
      knownInode: this.knownInodes.has(inodeOf(key)),
      atStartup: !this.started,
      startAt: this.input.start_at,
    });
  }

  /**
   * The file `path` may be a copy of (copytruncate, or `cp`): another inode
   * in the same directory with the same first line, followed now or known
   * by its checkpoint. Whether that one still holds its content decides
   * whether the copy is read, and from where. Same first bytes are checked
   * where both files can be read, so a log that only starts with the same
   * line is no copy.
   */
  private async originalOf(path: string, key: string, handle: FileHandle): Promise<Original | undefined> {
    const dir = dirname(path);
    const listings = new Listings();
    for (const other of this.deps.checkpoints.withFingerprint(fingerprintOfKey(key))) {
      const entry = this.deps.checkpoints.get(other);
      if (!entry || inodeOf(other) === inodeOf(key)) continue;
      const followed = this.files.get(other);
      if (followed) {
        if (dirname(followed.path) !== dir) continue;
        // Released while still in `files`: its truncation is being handed over (queued behind us), and takes this copy.
        if (followed.released) return { state: 'followed', key: other, offset: followed.tracker.committed, id: followed.id };
        // At start-up nothing tells which of two such files came first but their names (access.log, access.log.1).
        if (!this.started && !isRotatedName(followed.path, path)) continue;
        const like = await this.startsLike(followed, handle);
        if (like === 'different') continue;
        // 'rewritten': truncated under us, not noticed yet; its hand-over (soon: woken now) takes this copy over.
        if (like === 'rewritten') this.wake(followed);
        return { state: 'followed', key: other, offset: followed.tracker.committed, id: followed.id };
      }
      if (dirname(entry.path) !== dir || !this.recovery.owns(entry)) continue;
      const where = await locate(other, entry.path, listings, this.input.fingerprint_bytes);
      if ('found' in where) {
        const same = await samePrefix(where.found.handle, handle).finally(() => where.found.handle.close());
        if (same) return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
        continue;
      }
      // Not known either way (its directory unreadable now): treated as live, so the copy waits rather than repeats.
      if ('unknown' in where) return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
      if (mayBeCopyOf(entry.path, path)) return { state: 'gone', key: other, offset: entry.offset, id: entry.id ?? other };
    }
    return undefined;
  }

  /** Whether an open file starts with a followed file's bytes, or the followed one no longer starts with its own first line. */
  private async startsLike(file: TailedFile, handle: FileHandle): Promise<'same' | 'different' | 'rewritten'> {
    if (file.handle) {
      if (!(await this.sameContent(file))) return 'rewritten';
      return (await samePrefix(file.handle, handle)) ? 'same' : 'different';
    }
    const located = await locate(file.key, file.path, new Listings(), this.input.fingerprint_bytes);
    if (!('found' in located)) return 'rewritten';
    const same = await samePrefix(located.found.handle, handle).finally(() => located.found.handle.close());
    return same ? 'same' : 'different';
  }

  /** Follows a newly identified file from where `resume` says; outside the paths (found by identity) it is drained, then released. */
  private adopt(path: string, key: string, handle: FileHandle, size: number, resume: Resume & { follow: true }): void {
    if (resume.replaces !== undefined) this.deps.checkpoints.delete(resume.replaces);
    const position = resume.position;
    const tracker = new OffsetTracker(position, () => this.saveCheckpoint(file));
    const file = new TailedFile(key, resume.id ?? key, path, handle, position, tracker, this.deps.source(path));
    file.size = size;
    this.files.set(key, file);
    this.byInode.set(inodeOf(key), file);
    if (this.discovery.matches(path)) {
      this.byPath.set(path, file);
      this.openFiles.touch(file);
    } else {
      file.detached = true;
      file.detachedAt = Date.now();
    }
    this.saveCheckpoint(file);
    this.events.following(file, position, resume.from, file.id);
    this.schedule(file);
  }

  private saveCheckpoint(file: TailedFile): void {
    if (file.released) return; // late acks must not resurrect a released file's checkpoint
    this.deps.checkpoints.set(file.key, { path: file.path, offset: file.tracker.committed, size: Math.max(file.size, file.readOffset), input: this.input.name, id: file.id });
    if (this.stopped && file.tracker.pending === 0 && this.unsettled.delete(file) && this.unsettled.size === 0) {
      for (const wake of this.settledWaiters.splice(0)) wake();
    }
  }

  private renamed(file: TailedFile, path: string): void {
    this.events.renamed(file.key, file.path, path);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    file.path = path;
    file.setSource(this.deps.source(path));
    if (file.detached) {
      file.detached = false;
      this.openFiles.touch(file);
    }
    this.byPath.set(path, file);
    this.saveCheckpoint(file);
  }

  private changed(path: string): void {
    const file = this.byPath.get(path);
    if (file) {
      this.wake(file);
      this.schedule(file);
    } else void this.found(path);
  }

  /** The path was unlinked or renamed away: look at its file now rather than at its next poll. */
  private removed(path: string): void {
    const file = this.byPath.get(path);
    if (file) this.wake(file);
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
        this.events.bytesRead(file.position - before);
      } catch (err) {
        this.events.readFailed(file.path, err);
        this.ready.delete(file);
        continue;
      }
      if (outcome === 'changed') {
        await this.truncated(file);
      } else if (outcome === 'full') {
        this.paused = true;
        this.events.paused();
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
    // Rotated away while closed: its path holds another file now. The recovery pass finds it by identity and reads it on.
    await this.release(file, 'moved while closed');
    return false;
  }

  private readonly longLineCounter = {
    longLine: (file: FileSource, truncated: boolean) => this.events.longLine(file, truncated, this.input.max_line_bytes),
  };

  /** The safety net for growth, truncation and rotation that no event reported: each file when it is due. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const path of this.pending) await this.found(path);
      const now = Date.now();
      for (const file of this.files.values()) if (file.nextCheckAt <= now) await this.check(file);
    } catch (err) {
      this.events.pollFailed(err);
    } finally {
      this.polling = false;
    }
  }

  /** Looks at `file` at the next poll, and often while it keeps changing. */
  private wake(file: TailedFile): void {
    file.checkIntervalMs = this.input.poll_interval_ms;
    file.nextCheckAt = 0;
  }

  /** Nothing changed: look again a little later each time, up to idle_poll_interval_ms. */
  private quiet(file: TailedFile): void {
    const min = this.input.poll_interval_ms;
    // Detached files are drained and released on rotate_wait's clock: they stay on the short interval.
    const max = file.detached ? min : Math.max(min, this.input.idle_poll_interval_ms);
    file.checkIntervalMs = Math.min(max, Math.max(min, file.checkIntervalMs * 2));
    file.nextCheckAt = Date.now() + file.checkIntervalMs;
  }

  private async check(file: TailedFile): Promise<void> {
    if (file.released) return;
    // Taken before the size: a read that completes while the stat is under way cannot make the file look shorter than what was read.
    const readOffset = file.readOffset;
    let size: number;
    let sameContent = true;
    let atPath: 'this' | 'other' | 'none' | 'unchecked' = 'unchecked';
    if (file.handle) {
      const stats = await file.handle.stat().catch(() => undefined);
      if (!stats) return;
      size = stats.size;
      // Unchanged size and mtime: the first line is what it was (no read of it for an idle file).
      if (size !== file.checkedSize || stats.mtimeMs !== file.checkedMtimeMs) {
        sameContent = await this.sameContent(file);
        file.checkedSize = size;
        file.checkedMtimeMs = stats.mtimeMs;
      }
      if (!file.detached) {
        const current = await stat(file.path).catch(() => undefined);
        atPath = !current ? 'none' : sameInode(file.key, current) ? 'this' : 'other';
      }
    } else {
      const current = await stat(file.path).catch(() => undefined);
      if (!current || !sameInode(file.key, current)) {
        await this.release(file, 'moved while closed');
        if (current) void this.found(file.path);
        return;
      }
      size = current.size;
    }
    const verdict = decideRotation(
      {
        size,
        readOffset,
        sameContent,
        atPath,
        detached: file.detached,
        hasPartial: file.hasPartial,
        pending: file.tracker.pending,
        queued: this.ready.has(file),
        now: Date.now(),
        lastGrowthAt: file.lastGrowthAt,
        detachedAt: file.detachedAt,
      },
      // Container runtimes always end their lines: a half wrapper line is not worth shipping.
      { rotateWaitMs: this.input.rotate_wait_ms, partialFlushMs: this.input.container === 'none' ? this.input.partial_line_flush_ms : 0 },
    );
    if (verdict.kind === 'truncated') {
      await this.truncated(file);
      return;
    }
    file.size = size;
    switch (verdict.kind) {
      case 'grew':
        this.wake(file);
        this.schedule(file);
        return;
      case 'detach':
        this.flushPartialIf(file, verdict.flushPartial);
        this.detach(file, verdict.how);
        return;
      case 'release':
        // Its last line never got a newline and never will: ship it (and what the sink holds) rather than lose it.
        this.flushPartialIf(file, file.hasPartial);
        if (this.deps.sink.flush && !this.deps.sink.flush(file)) this.paused = true;
        await this.release(file, 'drained');
        return;
      case 'quiet':
        this.flushPartialIf(file, verdict.flushPartial);
        this.quiet(file);
        return;
    }
  }

  private flushPartialIf(file: TailedFile, flush: boolean): void {
    if (!flush) return;
    this.events.partialFlushed();
    if (!file.flushPartial(this.deps.sink, this.limits)) this.paused = true;
  }

  /** The path names another file now, or none: keep the descriptor (it cannot be reopened by path), drain it, then release it. */
  private detach(file: TailedFile, how: 'rotated' | 'deleted'): void {
    file.detached = true;
    file.detachedAt = Date.now();
    this.openFiles.forget(file);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    this.events.detached(file, how);
    this.wake(file);
    if (how === 'rotated') void this.found(file.path);
  }

  /** Whether the file still starts with the first line it had (a copytruncate that regrew past us does not). */
  private async sameContent(file: TailedFile): Promise<boolean> {
    if (!file.handle) return true;
    const fingerprint = await readFingerprint(file.handle, this.input.fingerprint_bytes);
    return fingerprint === fingerprintOfKey(file.key);
  }

  /**
   * Truncated (copytruncate) or rewritten: what is there now is a new file.
   * The lines not read yet live on in logrotate's copy, if there is one: it
   * takes over this file's checkpoint and record ids and is read from where
   * reading stopped (followed on if the paths match it, else drained and
   * released). Bytes this file was seen to hold that are neither read nor in
   * the copy (written in logrotate's copy-to-truncate window) are counted lost.
   */
  private async truncated(file: TailedFile): Promise<void> {
    if (file.released) return; // seen by the poll and a read at once
    file.released = true; // no more reads; it stays findable (byPath) until released in turn below
    const path = file.path;
    // In turn with discovery, which may be adopting the same copy through a glob right now.
    await this.serially(async () => {
      const copy = await findCopy(file.key, path, new Listings(), this.input.fingerprint_bytes, () => false).catch(() => undefined);
      const seen = Math.max(file.size, file.readOffset);
      const lost = Math.max(0, seen - Math.max(file.position, copy?.stats.size ?? 0));
      this.events.truncated(file, file.position, copy?.path, lost);
      await this.release(file, 'truncated');
      this.deps.checkpoints.delete(file.key);
      if (!copy) return;
      const copyKey = identityKey(copy.stats, fingerprintOfKey(file.key));
      if (this.files.has(copyKey) || this.stopped) {
        await copy.handle.close(); // followed already (a glob found it with its own checkpoint)
        return;
      }
      const position = Math.min(file.position, copy.stats.size);
      this.adopt(copy.path, copyKey, copy.handle, copy.stats.size, { follow: true, position, from: 'copy of a truncated file', id: file.id });
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
    this.events.released(file, file.position, why);
  }

  /**
   * After stop(): resolves once every line handed over is acknowledged (or
   * spooled) and checkpointed, so a tailer that takes over these files (a
   * reload) starts past them instead of reading them again.
   */
  settled(): Promise<void> {
    // Asked once the batcher was flushed: every line handed over has its ticket by now.
    for (const file of this.retired) if (file.tracker.pending > 0) this.unsettled.add(file);
    if (this.unsettled.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
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
    this.retired = [...this.files.values()];
    this.files.clear();
    this.byPath.clear();
    this.byInode.clear();
  }
}
