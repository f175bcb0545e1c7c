import { LRUCache } from 'lru-cache';
import type { TailedFile } from './tailed-file.ts';

/**
 * Bounds the descriptors an input holds: the least recently read file is
 * closed when one more must open. A closed file keeps its offsets and is
 * reopened by identity when it grows. Files being drained after a rotation
 * are not in here: they cannot be reopened by path, so they stay open
 * until released.
 */
export class OpenFiles {
  private readonly lru: LRUCache<string, TailedFile>;

  /** `evicted` closes the file's descriptor (or keeps it, if the file has left its path meanwhile). */
  constructor(max: number, evicted: (file: TailedFile) => void) {
    this.lru = new LRUCache<string, TailedFile>({
      max,
      dispose: (file, _key, reason) => {
        if (reason === 'evict') evicted(file);
      },
    });
  }

  /** Marks `file` as just used, adding it (and maybe evicting another). */
  touch(file: TailedFile): void {
    if (this.lru.get(file.key) !== file) this.lru.set(file.key, file);
  }

  /** Takes `file` out of the budget without closing it. */
  forget(file: TailedFile): void {
    if (this.lru.peek(file.key) === file) this.lru.delete(file.key);
  }

  get size(): number {
    return this.lru.size;
  }
}
