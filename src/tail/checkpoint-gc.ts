import { stat } from 'node:fs/promises';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { fileKey } from './file-identity.ts';

/**
 * Forgets checkpoints of files that are gone: not open, and their last known
 * path no longer holds the same file. A file that is merely closed keeps its
 * checkpoint, so finding it again resumes where it left off.
 */
export async function pruneGoneFiles(checkpoints: CheckpointStore, isOpen: (key: string) => boolean): Promise<number> {
  let pruned = 0;
  for (const key of [...checkpoints.keys()]) {
    if (isOpen(key)) continue;
    const entry = checkpoints.get(key);
    if (!entry) continue;
    const stats = await stat(entry.path).catch(() => undefined);
    if (!stats || fileKey(stats) !== key) {
      checkpoints.delete(key);
      pruned++;
    }
  }
  return pruned;
}
