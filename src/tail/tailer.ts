import { open, stat, type FileHandle } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import type { InputConfig } from '../config/types.ts';
import type { CheckpointStore, FileCheckpoint } from '../checkpoint/checkpoint-store.ts';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { CatchUp } from './catch-up.ts';
import { CheckSchedule } from './check-schedule.ts';
import { FollowUps } from './follow-up.ts';
import { Discovery } from './discovery.ts';
import { TailEvents } from './events.ts';
import { compressionOf, fingerprintOf, readHead } from './fingerprint.ts';
import { fingerprintOfKey, identityKey, inodeOf, inodeOfStats, sameInode } from './identity.ts';
import { findCopy, identityAt, Listings } from './locate.ts';
import { keepsItsFirstLine, lookAt } from './observe.ts';
import { FollowedFiles } from './followed-files.ts';
import { originalOf, type OriginalsHost } from './originals.ts';
import { lineStartsAt } from './prefix.ts';
import { CheckpointRecovery } from './recovery.ts';
import { decideResume, type Resume } from './resume.ts';
import { decideRotation } from './rotation.ts';
import { TailedFile, type LineLimits } from './tailed-file.ts';
import type { FileSource, FileState, LineSink } from './types.ts';

const READ_BUFFER_BYTES = 256 * 1024;

/** A file that grew at its last read is read again this soon (follow-up.ts); at most poll_interval_ms. */
const FOLLOW_UP_MS = 10;
/** ...and, while reads find nothing, less and less often until it has not grown for this long (chokidar's throttle). */
const FOLLOW_UP_FOR_MS = 50;

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
 * reads the file at once, and a file that grew is read again shortly
 * (follow-up.ts) while it keeps growing; the poll looks at a changing file every
 * poll_interval_ms and backs off to idle_poll_interval_ms while it stays
 * quiet, so thousands of idle files cost little. Its timer is armed for the
 * next file due (check-schedule.ts), not on a fixed tick: an idle agent
 * wakes once per idle_poll_interval_ms, and an event re-arms it sooner.
 */
export class Tailer {
  private readonly input: InputConfig;
  private readonly deps: TailerDeps;
  private readonly events: TailEvents;
  /** Files far behind: said, with progress, until caught up. */
  private readonly catchUp: CatchUp;
  private readonly discovery: Discovery;
  private readonly recovery: CheckpointRecovery;
  private readonly files: FollowedFiles;
  /** Matching files whose first line is not complete yet (no identity). */
  private readonly pending = new Set<string>();
  private readonly opening = new Set<string>();
  private identifying: Promise<void> = Promise.resolve();
  private readonly ready = new Set<TailedFile>();
  private readonly schedule: CheckSchedule;
  private readonly originals: OriginalsHost;
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
  /** When the armed poll fires (epoch ms); Infinity when none is armed. */
  private pollAt = Infinity;
  private readonly followUps: FollowUps;
  private polling = false;
  /** After stop(): the files it followed, and those of them whose handed-over lines are not all acknowledged yet. */
  private retired: TailedFile[] = [];
  private readonly unsettled = new Set<TailedFile>();
  private settledWaiters: (() => void)[] = [];
  /** whenIdle() callers: woken when nothing is queued for reading and no read is under way. */
  private idleWaiters: (() => void)[] = [];

  constructor(input: InputConfig, deps: TailerDeps) {
    this.input = input;
    this.deps = deps;
    const log = deps.log.child({ input: input.name });
    this.events = new TailEvents(deps.stats.input(input.name), log);
    this.catchUp = new CatchUp(log);
    this.limits = { maxLineBytes: input.max_line_bytes, truncate: input.on_long_line === 'truncate' };
    this.buf = Buffer.allocUnsafe(Math.max(READ_BUFFER_BYTES, input.max_line_bytes + 2));
    this.files = new FollowedFiles(input.max_open_files, (file) => void this.closeForBudget(file));
    this.schedule = new CheckSchedule(input.poll_interval_ms, input.idle_poll_interval_ms, (at) => this.pollBy(at));
    this.followUps = new FollowUps(Math.min(FOLLOW_UP_MS, input.poll_interval_ms), FOLLOW_UP_FOR_MS, (file) => this.queueRead(file));
    this.originals = {
      followed: (key) => this.files.get(key),
      owns: (entry) => this.recovery.owns(entry),
      wake: (file) => this.schedule.wake(file),
      started: () => this.started,
    };
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
      followingInode: (inode) => this.files.ofInode(inode) !== undefined,
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
    this.schedule.soon();
    if (this.files.size === 0 && this.pending.size === 0) this.events.noMatch(this.input.paths);
  }

  /** Resolves once nothing is queued for reading and no read is under way: every file followed has been read to its end. */
  whenIdle(): Promise<void> {
    if (!this.pumping && !this.paused && this.ready.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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

  /** How many files it follows (open or closed, at their path or draining). */
  get followedCount(): number {
    return this.files.size;
  }

  /** Whether this tailer follows the file with this identity (its checkpoint is live). */
  isFollowing(key: string): boolean {
    return this.files.has(key);
  }

  /** Followed files with their last seen size, committed offset and since when what is past it waits (ms), for the lag metrics. */
  *fileStates(now = Date.now()): Iterable<FileState> {
    for (const file of this.files.values()) {
      const size = Math.max(file.size, file.position);
      const committed = file.tracker.committed;
      file.sizes.saw(size, now);
      yield { path: file.path, input: this.input.name, size, committed, waitingSince: committed < size ? (file.sizes.waitingSince(committed) ?? now) : undefined };
    }
  }

  get openDescriptors(): number {
    return this.files.openDescriptors;
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
    const known = this.files.ofInode(inode);
    // An open descriptor pins the inode, so a known open file at a new path is a rename.
    if (known?.handle && !known.released) {
      if (known.path !== path) this.renamed(known, path);
      return;
    }
    // Closed for the descriptor budget and still at its path: the scan has nothing to add (a read reopens it by identity).
    if (known && !known.released && known.path === path) return;
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
        this.schedule.soon();
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
    const original = checkpoint ? undefined : await originalOf(path, key, handle, this.deps.checkpoints, this.originals, this.input.fingerprint_bytes);
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

  /** Follows a newly identified file from where `resume` says; outside the paths (found by identity) it is drained, then released. */
  private adopt(path: string, key: string, handle: FileHandle, size: number, resume: Resume & { follow: true }, continues?: OffsetTracker): void {
    if (resume.replaces !== undefined) this.deps.checkpoints.delete(resume.replaces);
    const position = resume.position;
    const tracker = continues ?? new OffsetTracker(position, () => undefined);
    const file = new TailedFile(key, resume.id ?? key, path, handle, position, tracker, this.deps.source(path));
    tracker.handOver(() => this.saveCheckpoint(file));
    file.size = size;
    file.sizes.saw(size, Date.now());
    this.catchUp.seen(file);
    this.files.add(file, this.discovery.matches(path));
    this.schedule.wake(file);
    this.saveCheckpoint(file);
    this.events.following(file, position, resume.from, file.id);
    this.queueRead(file);
  }

  private saveCheckpoint(file: TailedFile): void {
    // Late acks of a released file still move its checkpoint, unless that was handed over or forgotten, or another reader took it.
    if (file.released && (!this.deps.checkpoints.get(file.key) || this.files.has(file.key))) return;
    const size = Math.max(file.size, file.readOffset);
    // A copytruncate copy shorter than what was read of its original: its acks may pass its end, its checkpoint may not.
    const offset = Math.min(file.tracker.committed, size);
    this.deps.checkpoints.set(file.key, { path: file.path, offset, size, input: this.input.name, id: file.id });
    if (this.stopped && file.tracker.pending === 0 && this.unsettled.delete(file) && this.unsettled.size === 0) {
      for (const wake of this.settledWaiters.splice(0)) wake();
    }
  }

  private renamed(file: TailedFile, path: string): void {
    this.events.renamed(file.key, file.path, path);
    this.files.moved(file, path);
    file.setSource(this.deps.source(path));
    this.saveCheckpoint(file);
  }

  private changed(path: string): void {
    const file = this.files.atPath(path);
    if (file) {
      this.schedule.wake(file);
      this.queueRead(file);
    } else void this.found(path);
  }

  /** The path was unlinked or renamed away: look at its file now rather than at its next poll. */
  private removed(path: string): void {
    const file = this.files.atPath(path);
    if (file) this.schedule.wake(file);
  }

  private queueRead(file: TailedFile): void {
    file.wanted = true;
    this.ready.add(file);
    this.pump();
  }

  /** Drains the ready queue, one file at a time, until it is empty or the sink is full. */
  private pump(): void {
    if (this.pumping || this.paused || this.stopped) return;
    if (this.ready.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
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
        const readFrom = file.readOffset;
        // One small pread per chunk read (not per line): never ship new content at an old offset.
        // Not known (its descriptor closed meanwhile): read on; the next check tells.
        outcome = await file.read(this.buf, this.deps.sink, this.limits, this.longLineCounter, async () => (await keepsItsFirstLine(file, this.input.fingerprint_bytes)) !== false);
        this.events.bytesRead(file.position - before);
        if (outcome === 'eof') {
          this.followUps.afterRead(file, file.readOffset > readFrom, Date.now());
          this.catchUp.reachedEnd(file);
        }
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
      this.files.used(file);
      return true;
    }
    const at = await identityAt(file.path, file.key, this.input.fingerprint_bytes);
    if (at.kind === 'same') {
      file.reopen(at.located.handle);
      this.files.used(file);
      return true;
    }
    // EMFILE and the like: the read fails now and is retried at the next poll.
    if (at.kind === 'unreadable' && at.error.code !== 'ENOENT') throw at.error;
    if (at.kind === 'rewritten') {
      // Truncated while closed (copytruncate): the rest of what it held is in its copy.
      await this.truncated(file);
      return false;
    }
    // Rotated away while closed: its path holds another file now. The recovery pass finds it by identity and reads it on.
    await this.release(file, 'moved while closed');
    return false;
  }

  /**
   * The least recently read file gives its descriptor up for another. If its
   * path no longer holds it (unlinked or rotated, not noticed yet), it is
   * detached instead: a closed file could not be opened again, and its
   * unread lines would be lost.
   */
  private async closeForBudget(file: TailedFile): Promise<void> {
    const current = await stat(file.path).catch(() => undefined);
    if (file.released || file.detached) return;
    if (current && sameInode(file.key, current)) {
      this.events.closedForBudget();
      await file.closeHandle();
      return;
    }
    this.detach(file, current ? 'rotated' : 'deleted');
  }

  private readonly longLineCounter = {
    longLine: (file: FileSource, truncated: boolean) => this.events.longLine(file, truncated, this.input.max_line_bytes),
  };

  /** Arms the poll for `at` (epoch ms), unless one is armed for sooner. Before start() the first poll is start()'s to arm. */
  private pollBy(at: number): void {
    // Infinity: nothing followed or waiting; the next file found arms a poll. (pollAt is Infinity while none is armed.)
    if (!this.started || this.stopped || !Number.isFinite(at) || this.pollAt <= at) return;
    clearTimeout(this.pollTimer);
    this.pollAt = at;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollAt = Infinity;
      void this.poll();
    }, Math.max(0, at - Date.now()));
  }

  /** The safety net for growth, truncation and rotation that no event reported: each file when it is due. */
  private async poll(): Promise<void> {
    // A poll under way arms the next one when it ends.
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const path of this.pending) await this.found(path);
      const now = Date.now();
      for (const file of this.files.values()) {
        // One file's failure does not keep the others from their check.
        if (this.schedule.due(file, now)) await this.check(file).catch((err: unknown) => this.events.pollFailed(err));
      }
    } catch (err) {
      this.events.pollFailed(err);
    } finally {
      this.polling = false;
      this.pollBy(this.schedule.nextPoll(this.files.values(), this.pending.size > 0, Date.now()));
    }
  }

  private async check(file: TailedFile): Promise<void> {
    if (file.released) return;
    const looked = await lookAt(file, this.input.fingerprint_bytes);
    if (looked === undefined) return;
    if (looked === 'moved') {
      // Closed for the descriptor budget and rotated meanwhile: the recovery pass finds it by identity and reads it on.
      await this.release(file, 'moved while closed');
      void this.found(file.path);
      return;
    }
    const { size } = looked;
    const verdict = decideRotation(
      {
        ...looked,
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
    file.sizes.saw(size, Date.now());
    this.catchUp.seen(file);
    switch (verdict.kind) {
      case 'grew':
        this.schedule.wake(file);
        this.queueRead(file);
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
        this.schedule.quiet(file, Date.now());
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
    this.files.detach(file);
    this.events.detached(file, how);
    this.schedule.wake(file);
    if (how === 'rotated') void this.found(file.path);
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
      if (this.stopped) {
        // Stopping: the checkpoint stays the original's, and the next start hands it over to the copy.
        await copy?.handle.close();
        return;
      }
      this.deps.checkpoints.delete(file.key);
      if (!copy) return;
      const copyKey = identityKey(copy.stats, fingerprintOfKey(file.key));
      if (this.files.has(copyKey)) {
        await copy.handle.close(); // followed already (a glob found it with its own checkpoint)
        return;
      }
      // Read on from the original's last line handed over; its checkpoint moves as those lines are acknowledged.
      const position = Math.min(file.position, copy.stats.size);
      this.adopt(copy.path, copyKey, copy.handle, copy.stats.size, { follow: true, position, from: 'copy of a truncated file', id: file.id }, file.tracker);
    });
    void this.found(path);
  }

  private async release(file: TailedFile, why: string): Promise<void> {
    file.released = true;
    this.catchUp.forget(file);
    this.files.remove(file);
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
    clearTimeout(this.pollTimer);
    this.followUps.stop();
    this.catchUp.stop();
    await this.discovery.stop();
    await this.pumping;
    await this.identifying; // a hand-over to a copy under way must finish before the files close
    for (const file of this.files.values()) {
      if (this.input.flush_partial_on_stop && this.input.container === 'none' && file.hasPartial) file.flushPartial(this.deps.sink, this.limits);
      await file.closeHandle();
    }
    this.retired = [...this.files.values()];
    this.files.clear();
  }
}
