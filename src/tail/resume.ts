/**
 * Where a file starts being read, decided in one place (as Fluent Bit's
 * `set_file_position` and Vector's resume `match`): the tailer gathers the
 * facts about a newly identified file, this says what to do, the tailer
 * does it. Pure: table-tested in test/tail/resume.test.ts.
 */
import type { StartAt } from '../config/types.ts';

/** The file this one may be a copy of: same first line, same directory, another inode. */
export interface Original {
  /** followed: the tailer reads it now; live: on disk with that content, not followed yet; gone: truncated or deleted. */
  state: 'followed' | 'live' | 'gone';
  key: string;
  /** Its checkpoint (followed: its committed offset). */
  offset: number;
  /** Its record-id prefix: a copy's lines keep their original's ids. */
  id: string;
}

export interface ResumeFacts {
  size: number;
  /** This very identity's checkpoint. */
  checkpoint: { offset: number } | undefined;
  original: Original | undefined;
  /** When `original` is gone and its offset within the file: whether a line starts there (the byte before is a newline). */
  lineStartsAtOriginalOffset: boolean | undefined;
  /** The inode had a checkpoint at start-up, under another first line: all of its content is new since. */
  knownInode: boolean;
  /** Found by the start-up scan (start_at applies), not appearing later. */
  atStartup: boolean;
  startAt: StartAt;
}

export type Resume =
  | {
      follow: true;
      position: number;
      /** Why there, for the log. */
      from: string;
      /** Record-id prefix when not the file's own key. */
      id?: string;
      /** A checkpoint this file takes over (its original's): deleted in the same save. */
      replaces?: string;
    }
  | { follow: false; why: string };

export function decideResume(f: ResumeFacts): Resume {
  if (f.checkpoint) {
    if (f.checkpoint.offset <= f.size) return { follow: true, position: f.checkpoint.offset, from: 'checkpoint' };
    return { follow: true, position: 0, from: 'shorter than its checkpoint (rewritten)' };
  }
  const original = f.original;
  if (original?.state === 'followed') return { follow: false, why: 'a copy of a file being read: its lines come from the original' };
  if (original?.state === 'live') return { follow: false, why: 'a copy of a file that is read from its checkpoint' };
  if (original?.state === 'gone') {
    // The original was truncated (copytruncate) or deleted: its unread rest lives on here.
    if (original.offset > f.size) return { follow: true, position: f.size, from: 'copy of a file read past its end', id: original.id, replaces: original.key };
    if (f.lineStartsAtOriginalOffset) return { follow: true, position: original.offset, from: 'checkpoint of the file it is a copy of', id: original.id, replaces: original.key };
    // Not a byte-for-byte copy where it matters: an unrelated file with the same first line.
  }
  if (f.knownInode) return { follow: true, position: 0, from: 'inode rewritten since its checkpoint' };
  if (f.atStartup && f.startAt === 'end') return { follow: true, position: f.size, from: 'end' };
  return { follow: true, position: 0, from: 'beginning' };
}
