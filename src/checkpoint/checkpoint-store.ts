import { readFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observe/logger.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { CheckpointFormatError, formatCheckpoints, formatRetired, parseCheckpoints, parseRetired, type FileCheckpoint, type RetiredCheckpoint } from './checkpoint-file.ts';

export type { FileCheckpoint } from './checkpoint-file.ts';

/** Retired checkpoints kept (newest): a backfill weeks later still knows how far the agent got in a file compressed since. */
const MAX_RETIRED = 1000;

/**
 * Durable read offsets per file identity, in `<state_dir>/checkpoints.json`.
 * A change is saved as soon as the previous save is done: one atomic write
 * at a time, each carrying every change made meanwhile. So a crash repeats
 * only the batches in flight plus those acked during one save (a few ms),
 * and a busy pipeline costs one write per save time, not one per batch.
 */
export class CheckpointStore {
  /** Undefined for a store kept in memory only (`run --dry-run`: nothing read from or written to a state_dir). */
  readonly file: string | undefined;
  private files = new Map<string, FileCheckpoint>();
  /** `<state_dir>/checkpoints-retired.json`: last checkpoints of files no longer followed, oldest first (checkpoint-file.ts). */
  readonly retiredFile: string | undefined;
  private retired = new Map<string, RetiredCheckpoint>();
  private retiredDirty = false;
  /** Keys by fingerprint (the key's last part): a copytruncate copy is found by its first line. */
  private readonly byFingerprint = new Map<string, Set<string>>();
  /** Keys by `<dev>:<ino>` (the key's first parts). */
  private readonly byInode = new Map<string, Set<string>>();
  private dirty = false;
  private saving: Promise<void> | undefined;
  /** Armed only after a failed save: an idle agent with nothing to save has no timer. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 1000;
  private autoSave = false;
  /** whenSaved() callers whose changes are not in a write yet / are in the write under way. */
  private readonly waitingForNext: (() => void)[] = [];
  private waitingForCurrent: (() => void)[] = [];
  private readonly log: Logger;

  /** `fileName`: `logship backfill` keeps its own checkpoints beside the agent's. */
  constructor(stateDir: string | undefined, log: Logger, fileName = 'checkpoints.json') {
    this.log = log;
    if (stateDir === undefined) return;
    mkdirSync(stateDir, { recursive: true });
    this.file = join(stateDir, fileName);
    this.retiredFile = join(stateDir, fileName.replace(/\.json$/, '-retired.json'));
    this.load(this.file);
    this.loadRetired(this.retiredFile);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read checkpoints ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.files = parseCheckpoints(text);
    } catch (err) {
      if (err instanceof CheckpointFormatError) throw new Error(`${file}: ${err.message}`, { cause: err });
      // Atomic writes make this unlikely. Kept aside for inspection; starting over re-reads (duplicates) rather than losing lines.
      const aside = `${file}.corrupt-${Date.now()}`;
      try {
        renameSync(file, aside);
      } catch {
        // Read-only state dir: the next save fails and says so.
      }
      this.log.error({ err, file, kept_as: aside }, 'checkpoint file is corrupt; files will be read by start_at');
    }
    for (const key of this.files.keys()) this.index(key);
  }

  private loadRetired(file: string): void {
    try {
      this.retired = parseRetired(readFileSync(file, 'utf8'));
    } catch (err) {
      // Only backfill reads them: without them it ships a compressed file whole (repeats), never less.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, file }, 'retired checkpoints unreadable; starting a new list');
    }
  }

  private index(key: string): void {
    const split = key.lastIndexOf(':');
    addTo(this.byFingerprint, key.slice(split + 1), key);
    addTo(this.byInode, key.slice(0, split), key);
  }

  private unindex(key: string): void {
    const split = key.lastIndexOf(':');
    removeFrom(this.byFingerprint, key.slice(split + 1), key);
    removeFrom(this.byInode, key.slice(0, split), key);
  }

  get(key: string): FileCheckpoint | undefined {
    return this.files.get(key);
  }

  /** Records `checkpoint` for `key`; a save follows only when something changed. */
  set(key: string, checkpoint: FileCheckpoint): void {
    const current = this.files.get(key);
    if (
      current &&
      current.offset === checkpoint.offset &&
      current.path === checkpoint.path &&
      current.size === checkpoint.size &&
      current.input === checkpoint.input &&
      current.id === checkpoint.id
    ) {
      return;
    }
    const entry: FileCheckpoint = { path: checkpoint.path, offset: checkpoint.offset };
    if (checkpoint.size !== undefined) entry.size = checkpoint.size;
    if (checkpoint.input !== undefined) entry.input = checkpoint.input;
    if (checkpoint.id !== undefined && checkpoint.id !== key) entry.id = checkpoint.id;
    // When the offset last moved (lines acknowledged), for `logship checkpoints list`; a rename or a new size keeps it.
    const ackedAt = current && current.offset !== checkpoint.offset ? Date.now() : current?.acked_at_ms;
    if (ackedAt !== undefined) entry.acked_at_ms = ackedAt;
    if (!current) this.index(key);
    this.files.set(key, entry);
    if (this.retired.delete(key)) this.retiredDirty = true;
    this.changed();
  }

  /** Forgets a file's checkpoint; its last state is kept among the retired ones for `logship backfill`. */
  delete(key: string): void {
    const entry = this.files.get(key);
    if (!entry) return;
    this.files.delete(key);
    this.retired.delete(key);
    this.retired.set(key, { ...entry, retired_at: Date.now() });
    for (const old of this.retired.keys()) {
      if (this.retired.size <= MAX_RETIRED) break;
      this.retired.delete(old);
    }
    this.retiredDirty = true;
    this.unindex(key);
    this.changed();
  }

  /** Keys of the checkpoints whose file starts with the line of this fingerprint. */
  withFingerprint(fingerprint: string): readonly string[] {
    const keys = this.byFingerprint.get(fingerprint);
    return keys ? [...keys] : [];
  }

  /** Keys of the checkpoints of this inode (`<dev>:<ino>`), whatever its first line. */
  ofInode(inode: string): readonly string[] {
    const keys = this.byInode.get(inode);
    return keys ? [...keys] : [];
  }

  private changed(): void {
    this.dirty = true;
    if (this.autoSave && !this.saving) void this.save();
  }

  keys(): IterableIterator<string> {
    return this.files.keys();
  }

  /** From now on, changes are saved as they come (one save at a time); a failed save is retried `retryMs` later (or at the next change). */
  startAutoSave(retryMs: number): void {
    this.autoSave = true;
    this.retryMs = retryMs;
    if (this.dirty) void this.save();
  }

  private retryLater(): void {
    if (!this.autoSave || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.dirty && !this.saving) void this.save();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Saves if anything changed; one write at a time, each taking every change made before it starts. */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    const covered = this.waitingForNext.splice(0);
    if (this.file === undefined) {
      for (const resolve of covered) resolve();
      return;
    }
    const file = this.file;
    this.waitingForCurrent = covered;
    let failed = false;
    // Retired first: a crash in between leaves a checkpoint both live and retired (harmless), never neither.
    const retired = this.retiredDirty ? formatRetired(this.retired) : undefined;
    const retiredFile = this.retiredFile;
    this.retiredDirty = false;
    this.saving = (retired === undefined || retiredFile === undefined ? Promise.resolve() : writeFileAtomic(retiredFile, retired))
      .then(() => writeFileAtomic(file, formatCheckpoints(this.files)))
      .then(
        () => {
          for (const resolve of covered) resolve();
        },
        (err: unknown) => {
          failed = true;
          this.dirty = true;
          if (retired !== undefined) this.retiredDirty = true;
          this.waitingForNext.unshift(...covered); // the next write carries their changes
          this.log.error({ err, file }, 'saving checkpoints failed; will retry');
          this.retryLater();
        },
      )
      .finally(() => {
        this.saving = undefined;
        this.waitingForCurrent = [];
      });
    await this.saving;
    // Changes made during the write go out in the next one (a failed save waits for the retry timer or the next change).
    if (this.dirty && this.autoSave && !failed) void this.save();
  }

  /** Resolves once every change made so far is on disk (a crash after that cannot undo it). */
  whenSaved(): Promise<void> {
    if (!this.dirty && !this.saving) return Promise.resolve();
    return new Promise((resolve) => (this.dirty ? this.waitingForNext : this.waitingForCurrent).push(resolve));
  }

  /** Stops saving on its own and writes what is left; resolves when the last write is on disk. */
  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.autoSave = false;
    await this.save();
    while (this.saving) await this.saving;
  }
}

function addTo(index: Map<string, Set<string>>, part: string, key: string): void {
  let keys = index.get(part);
  if (!keys) index.set(part, (keys = new Set()));
  keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, part: string, key: string): void {
  const keys = index.get(part);
  keys?.delete(key);
  if (keys?.size === 0) index.delete(part);
}
