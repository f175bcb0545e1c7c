import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observe/logger.ts';
import { writeFileAtomic } from './atomic-write.ts';

export interface FileCheckpoint {
  path: string;
  offset: number;
}

interface CheckpointFile {
  version: 1;
  files: Record<string, FileCheckpoint>;
}

/**
 * Durable read offsets per file identity, in `<state_dir>/checkpoints.json`.
 * A change is saved as soon as the previous save is done: one atomic write
 * at a time, each carrying every change made meanwhile. So a crash repeats
 * only the batches in flight plus those acked during one save (a few ms),
 * and a busy pipeline costs one write per save time, not one per batch.
 */
export class CheckpointStore {
  readonly file: string;
  private readonly files = new Map<string, FileCheckpoint>();
  private dirty = false;
  private saving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private autoSave = false;
  /** whenSaved() callers whose changes are not in a write yet / are in the write under way. */
  private readonly waitingForNext: (() => void)[] = [];
  private waitingForCurrent: (() => void)[] = [];
  private readonly log: Logger;

  constructor(stateDir: string, log: Logger) {
    this.log = log;
    mkdirSync(stateDir, { recursive: true });
    this.file = join(stateDir, 'checkpoints.json');
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read checkpoints ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const data = JSON.parse(text) as CheckpointFile;
      for (const [key, value] of Object.entries(data.files ?? {})) {
        if (typeof value?.offset === 'number' && typeof value.path === 'string') this.files.set(key, value);
      }
    } catch (err) {
      // Atomic writes make this unlikely; starting over re-reads (duplicates) rather than losing lines.
      this.log.error({ err, file: this.file }, 'checkpoint file is corrupt; files will be read by start_at');
    }
  }

  get(key: string): FileCheckpoint | undefined {
    return this.files.get(key);
  }

  set(key: string, path: string, offset: number): void {
    const current = this.files.get(key);
    if (current && current.offset === offset && current.path === path) return;
    this.files.set(key, { path, offset });
    this.changed();
  }

  delete(key: string): void {
    if (this.files.delete(key)) this.changed();
  }

  private changed(): void {
    this.dirty = true;
    if (this.autoSave && !this.saving) void this.save();
  }

  keys(): IterableIterator<string> {
    return this.files.keys();
  }

  /** From now on, changes are saved as they come (one save at a time); failed saves are retried every `retryMs`. */
  startAutoSave(retryMs: number): void {
    this.autoSave = true;
    this.timer = setInterval(() => this.dirty && !this.saving && void this.save(), retryMs);
    this.timer.unref();
    if (this.dirty) void this.save();
  }

  /** Saves if anything changed; one write at a time, each taking every change made before it starts. */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    const data: CheckpointFile = { version: 1, files: Object.fromEntries(this.files) };
    const covered = this.waitingForNext.splice(0);
    this.waitingForCurrent = covered;
    let failed = false;
    this.saving = writeFileAtomic(this.file, JSON.stringify(data) + '\n')
      .then(
        () => {
          for (const resolve of covered) resolve();
        },
        (err: unknown) => {
          failed = true;
          this.dirty = true;
          this.waitingForNext.unshift(...covered); // the next write carries their changes
          this.log.error({ err, file: this.file }, 'saving checkpoints failed; will retry');
        },
      )
      .finally(() => {
        this.saving = undefined;
        this.waitingForCurrent = [];
      });
    await this.saving;
    // Changes made during the write go out in the next one (a failed save waits for the retry timer).
    if (this.dirty && this.autoSave && !failed) void this.save();
  }

  /** Resolves once every change made so far is on disk (a crash after that cannot undo it). */
  whenSaved(): Promise<void> {
    if (!this.dirty && !this.saving) return Promise.resolve();
    return new Promise((resolve) => (this.dirty ? this.waitingForNext : this.waitingForCurrent).push(resolve));
  }

  /** Stops saving on its own and writes what is left; resolves when the last write is on disk. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.autoSave = false;
    await this.save();
    while (this.saving) await this.saving;
  }
}
