/** Errors the spool reports; none of them leaves the spool unusable. */
export class SpoolError extends Error {
  override name = 'SpoolError';
}

export type SpoolFullReason = 'max_bytes' | 'disk_full' | 'entry_too_large';

/**
 * The entry was not stored for lack of room: the spool is at max_bytes
 * (when_full: block), the filesystem is full (ENOSPC, EDQUOT), or the entry
 * alone is larger than max_bytes. Nothing of it is on disk. Back off and try
 * again (Spool.whenRoom() resolves when an ack or a drop freed room).
 */
export class SpoolFullError extends SpoolError {
  override name = 'SpoolFullError';
  readonly reason: SpoolFullReason;
  constructor(reason: SpoolFullReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** An I/O error (EIO, EROFS, ...) writing, syncing or reading the spool; `code` is the errno name. */
export class SpoolIOError extends SpoolError {
  override name = 'SpoolIOError';
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Another live process holds the spool directory (its pid is in the lock file). */
export class SpoolLockedError extends SpoolError {
  override name = 'SpoolLockedError';
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(`spool ${dir} is in use by process ${pid} (stop it first, e.g. the running agent)`);
    this.pid = pid;
  }
}

/** The spool was closed. */
export class SpoolClosedError extends SpoolError {
  override name = 'SpoolClosedError';
}

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Wraps a Node I/O error in the matching typed error. */
export function ioError(err: unknown, what: string): SpoolError {
  if (err instanceof SpoolError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && FULL_CODES.has(code)) return new SpoolFullError('disk_full', `no space left for the spool: ${what} (${code})`, { cause: err });
  return new SpoolIOError(`spool I/O error: ${what}: ${(err as Error)?.message ?? String(err)}`, code, { cause: err });
}
