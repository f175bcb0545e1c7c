/**
 * The on-disk format of `<state_dir>/checkpoints.json`, versioned like
 * Vector's checkpoint file: every version ever written is read, the newest
 * is written, and a file from a newer agent is refused rather than guessed
 * at (reading offsets wrongly loses or repeats lines).
 *
 * Version 2 (written since the restart-safe rotation work):
 *   { "version": 2, "files": { "<dev>:<ino>:<fingerprint>": {
 *       "path":   where the file was last seen,
 *       "offset": the byte after the last line delivered (resume here),
 *       "size":   its size when last seen (what is lost if it is gone unread),
 *       "input":  the input that follows it (recovery searches its own),
 *       "id":     record-id prefix, present only when it is not the key:
 *                 a copytruncate copy carries its original's ids,
 *       "acked_at_ms": when the offset last moved (ms since the epoch),
 *                 absent until it has; shown by `logship checkpoints list` } } }
 * acked_at_ms came without a version bump on purpose: it does not bear on
 * where reading resumes, and agents that predate it ignore it, so a
 * downgrade still reads the file.
 * Version 1: { "version": 1, "files": { key: { "path", "offset" } } }.
 */

export interface FileCheckpoint {
  path: string;
  offset: number;
  size?: number;
  input?: string;
  id?: string;
  acked_at_ms?: number;
}

export const CHECKPOINT_VERSION = 2;

export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

/** The entries of a checkpoint file's text; throws CheckpointFormatError for a version this agent does not know. */
export function parseCheckpoints(text: string): Map<string, FileCheckpoint> {
  const data = JSON.parse(text) as { version?: unknown; files?: Record<string, Partial<FileCheckpoint>> };
  const version = data.version ?? 1;
  if (version !== 1 && version !== CHECKPOINT_VERSION) {
    throw new CheckpointFormatError(`checkpoint format version ${String(version)} is newer than this agent's (${CHECKPOINT_VERSION}); run the logship that wrote it, or move the file away to start over`);
  }
  const files = new Map<string, FileCheckpoint>();
  for (const [key, value] of Object.entries(data.files ?? {})) {
    if (typeof value?.offset !== 'number' || typeof value.path !== 'string') continue;
    const entry: FileCheckpoint = { path: value.path, offset: value.offset };
    if (typeof value.size === 'number') entry.size = value.size;
    if (typeof value.input === 'string') entry.input = value.input;
    if (typeof value.id === 'string' && value.id !== key) entry.id = value.id;
    if (typeof value.acked_at_ms === 'number') entry.acked_at_ms = value.acked_at_ms;
    files.set(key, entry);
  }
  return files;
}

/** The file's text for `files`, newest version. */
export function formatCheckpoints(files: ReadonlyMap<string, FileCheckpoint>): string {
  return JSON.stringify({ version: CHECKPOINT_VERSION, files: Object.fromEntries(files) }) + '\n';
}

/**
 * `<state_dir>/checkpoints-retired.json`: the last checkpoints of files
 * the agent stopped following because they are gone (deleted, compressed
 * by logrotate, replaced by a copy), newest last:
 *   { "version": 1, "retired": { "<key>": { path, offset, size?, input?, id?,
 *       "retired_at": ms since the epoch } } }
 * `logship backfill` reads them to ship only what the agent had not
 * shipped of a file compressed since. Kept apart from checkpoints.json,
 * which is written after every acknowledgement: this one changes only
 * when a file is retired.
 */
export interface RetiredCheckpoint extends FileCheckpoint {
  retired_at: number;
}

export const RETIRED_VERSION = 1;

export function parseRetired(text: string): Map<string, RetiredCheckpoint> {
  const data = JSON.parse(text) as { version?: unknown; retired?: Record<string, Partial<RetiredCheckpoint> | null> };
  if (data.version !== RETIRED_VERSION) throw new CheckpointFormatError(`retired checkpoints format version ${String(data.version)} is not this agent's (${RETIRED_VERSION})`);
  const retired = new Map<string, RetiredCheckpoint>();
  for (const [key, value] of Object.entries(data.retired ?? {})) {
    if (typeof value?.offset !== 'number' || typeof value.path !== 'string') continue;
    const entry: RetiredCheckpoint = { path: value.path, offset: value.offset, retired_at: typeof value.retired_at === 'number' ? value.retired_at : 0 };
    if (typeof value.size === 'number') entry.size = value.size;
    if (typeof value.input === 'string') entry.input = value.input;
    if (typeof value.id === 'string' && value.id !== key) entry.id = value.id;
    retired.set(key, entry);
  }
  return retired;
}

export function formatRetired(retired: ReadonlyMap<string, RetiredCheckpoint>): string {
  return JSON.stringify({ version: RETIRED_VERSION, retired: Object.fromEntries(retired) }) + '\n';
}
