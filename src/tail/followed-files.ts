import { inodeOf } from './identity.ts';
import { OpenFiles } from './open-files.ts';
import type { TailedFile } from './tailed-file.ts';

/**
 * The files an input follows, found three ways: by identity, by the path
 * the input's globs match (not for a file detached from its path: rotated
 * away, deleted, or found by identity outside the paths), and by inode (a
 * rename is known without reading a fingerprint). Files at a path count
 * against the descriptor budget; detached ones stay open until released,
 * since they cannot be reopened by path.
 */
export class FollowedFiles {
  private readonly byKey = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly byInode = new Map<string, TailedFile>();
  private readonly budget: OpenFiles;

  /** `evicted`: the budget wants `file` closed; it calls close() or detach(). */
  constructor(maxOpen: number, evicted: (file: TailedFile) => void) {
    this.budget = new OpenFiles(maxOpen, evicted);
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<TailedFile> {
    return this.byKey.values();
  }

  get(key: string): TailedFile | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  atPath(path: string): TailedFile | undefined {
    return this.byPath.get(path);
  }

  ofInode(inode: string): TailedFile | undefined {
    return this.byInode.get(inode);
  }

  /** Follows `file`: at its path (`atPath`), or detached from the start. */
  add(file: TailedFile, atPath: boolean): void {
    this.byKey.set(file.key, file);
    this.byInode.set(inodeOf(file.key), file);
    if (atPath) {
      this.byPath.set(file.path, file);
      this.budget.touch(file);
    } else {
      file.detached = true;
      file.detachedAt = Date.now();
    }
  }

  /** `file` is at `path` now (renamed, or found again at a matching path). */
  moved(file: TailedFile, path: string): void {
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    file.path = path;
    file.detached = false;
    this.byPath.set(path, file);
    this.budget.touch(file);
  }

  /** Its path names another file now, or none. */
  detach(file: TailedFile): void {
    file.detached = true;
    file.detachedAt = Date.now();
    this.budget.forget(file);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
  }

  /** Read just now (or reopened): the last to be closed for the budget. */
  used(file: TailedFile): void {
    if (!file.detached) this.budget.touch(file);
  }

  remove(file: TailedFile): void {
    this.byKey.delete(file.key);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    if (this.byInode.get(inodeOf(file.key)) === file) this.byInode.delete(inodeOf(file.key));
    this.budget.forget(file);
  }

  clear(): void {
    this.byKey.clear();
    this.byPath.clear();
    this.byInode.clear();
  }

  /** Descriptors held: the budgeted ones and the detached files still open. */
  get openDescriptors(): number {
    let detached = 0;
    for (const file of this.byKey.values()) if (file.detached && file.handle) detached++;
    return this.budget.size + detached;
  }
}
