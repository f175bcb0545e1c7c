/**
 * A checkpoint is a promise to finish that file. After a restart (or once
 * a file is released), rotation may have moved it where the input's paths
 * do not lead: renamed to any name in its directory, or copied to a new
 * inode by copytruncate while nobody followed it. At start-up and after
 * every scan, this pass looks for each checkpointed file of the input that
 * is not followed, by its identity:
 *
 *   found, with lines past its checkpoint   → followed from there (drained and
 *                                              released if the paths do not match it)
 *   found, read to its end                  → its checkpoint notes where it is now
 *   gone, but a copy of it is beside it     → the copy is read from the checkpoint,
 *                                              with the original's record ids
 *   gone, nowhere, for two passes in a row  → reported (lost bytes counted when it
 *                                              was not read to its end) and forgotten
 *   its directory cannot be read now        → asked again at the next pass
 */
import type { FileHandle } from 'node:fs/promises';
import type { CheckpointStore, FileCheckpoint } from '../checkpoint/checkpoint-store.ts';
import type { InputConfig } from '../config/types.ts';
import type { TailEvents } from './events.ts';
import { fingerprintOfKey, identityKey } from './identity.ts';
import { findCopy, Listings, locate } from './locate.ts';
import { lineStartsAt } from './prefix.ts';
import { decideResume, type Resume } from './resume.ts';

/** What recovery needs of the tailer. */
export interface RecoveryHost {
  following(key: string): boolean;
  followingInode(inode: string): boolean;
  /** Whether the input's paths (and excludes) select `path`. */
  matches(path: string): boolean;
  /** Adopts the file: followed on if the paths match it, else drained and released. */
  adopt(path: string, key: string, handle: FileHandle, size: number, resume: Resume & { follow: true }): void;
  /** Runs `task` in turn with the tailer's other changes to its files. */
  serially(task: () => Promise<void>): Promise<void>;
  stopped(): boolean;
}

export class CheckpointRecovery {
  private readonly input: InputConfig;
  private readonly checkpoints: CheckpointStore;
  private readonly events: TailEvents;
  private readonly host: RecoveryHost;
  /** Checkpoints whose file was not found at the last pass. */
  private readonly missing = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(input: InputConfig, checkpoints: CheckpointStore, events: TailEvents, host: RecoveryHost) {
    this.input = input;
    this.checkpoints = checkpoints;
    this.events = events;
    this.host = host;
  }

  /**
   * Whether a checkpoint is this input's to finish: written by it, or, from
   * an agent that did not record the input (format version 1), at a path
   * its globs match.
   */
  owns(entry: FileCheckpoint): boolean {
    if (entry.input !== undefined) return entry.input === this.input.name;
    return this.host.matches(entry.path);
  }

  /** One pass over the input's checkpoints that no followed file holds; a pass asked for while one runs joins it. */
  pass(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const listings = new Listings();
    for (const key of [...this.checkpoints.keys()]) {
      if (this.host.stopped()) return;
      if (this.host.following(key)) {
        this.missing.delete(key);
        continue;
      }
      const entry = this.checkpoints.get(key);
      if (!entry || !this.owns(entry)) continue;
      await this.host.serially(() => this.recoverOne(key, listings));
    }
  }

  private async recoverOne(key: string, listings: Listings): Promise<void> {
    const entry = this.checkpoints.get(key);
    // Adopted meanwhile (discovery runs in the same turn order), or taken over by a copy.
    if (!entry || this.host.following(key) || this.host.stopped()) return;
    const fingerprintBytes = this.input.fingerprint_bytes;
    const where = await locate(key, entry.path, listings, fingerprintBytes);
    if ('unknown' in where) {
      this.events.locateFailed(entry.path, where.unknown);
      return;
    }
    if ('found' in where) {
      this.missing.delete(key);
      const { path, handle, stats } = where.found;
      if (stats.size > entry.offset && !this.host.stopped()) {
        this.host.adopt(path, key, handle, stats.size, { follow: true, position: entry.offset, from: 'checkpoint', id: entry.id });
        this.events.recovered({ path, key }, entry.path, entry.offset, stats.size);
        return;
      }
      await handle.close();
      // Read to its end (or shorter than its checkpoint: the paths' scan decides about that one): note where it is now.
      if (path !== entry.path || stats.size !== entry.size) this.checkpoints.set(key, { ...entry, path, size: stats.size });
      return;
    }
    // Not where it was, not renamed: truncated (its content now in a copy) or deleted.
    const copy = await findCopy(key, entry.path, listings, fingerprintBytes, (inode) => this.host.followingInode(inode));
    if (copy) {
      const copyKey = identityKey(copy.stats, fingerprintOfKey(key));
      if (this.checkpoints.get(copyKey) || this.host.stopped()) {
        // The copy has its own checkpoint: it carries on from there, and this one is spent.
        await copy.handle.close();
        if (!this.host.stopped()) this.checkpoints.delete(key);
        return;
      }
      const resume = decideResume({
        size: copy.stats.size,
        checkpoint: undefined,
        original: { state: 'gone', key, offset: entry.offset, id: entry.id ?? key },
        lineStartsAtOriginalOffset: entry.offset <= copy.stats.size ? await lineStartsAt(copy.handle, entry.offset) : undefined,
        knownInode: false,
        atStartup: false,
        startAt: this.input.start_at,
      });
      if (resume.follow && resume.replaces === key) {
        this.missing.delete(key);
        this.host.adopt(copy.path, copyKey, copy.handle, copy.stats.size, resume);
        this.events.recovered({ path: copy.path, key: copyKey }, entry.path, resume.position, copy.stats.size);
        return;
      }
      await copy.handle.close();
    }
    // A rename or copy under way gets one pass to finish before the file counts as gone.
    if (!this.missing.has(key)) {
      this.missing.add(key);
      return;
    }
    this.missing.delete(key);
    this.checkpoints.delete(key);
    const unread = (entry.size ?? entry.offset) - entry.offset;
    if (unread > 0) this.events.lost({ path: entry.path, key }, unread, 'deleted, or truncated with no copy beside it, before it was read to its end');
    else this.events.forgotten({ path: entry.path, key });
  }
}
