import { stat } from 'node:fs/promises';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { sameInode } from './file-identity.ts';

/**
 * Forgets checkpoints of files that are gone: not followed, and their last
 * known path no longer holds the same inode. A file that is merely not
 * followed (excluded for now, or released after a rotation to a name a glob
 * still matches) keeps its checkpoint, so finding it again resumes there.
 */
export async function pruneGoneFiles(checkpoints: CheckpointStore, isFollowed: (key: string) => boolean): Promise<number> {
  let pruned = 0;
  for (const key of [...checkpoints.keys()]) {
    if (isFollowed(key)) continue;
    const entry = checkpoints.get(key);
    if (!entry) continue;
    const stats = await stat(entry.path).catch(() => undefined);
    if (!stats || !sameInode(key, stats)) {
      checkpoints.delete(key);
      pruned++;
    }
  }
  return pruned;
}
