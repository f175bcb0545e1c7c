/**
 * A log format that cannot be used: unknown preset, unreadable nginx.conf,
 * missing `log_format` name, malformed directive, or a format whose fields
 * cannot be told apart. Thrown at start-up (resolve / compile), never per line.
 */
export class FormatError extends Error {
  /** The file the problem is in, when it comes from a file. */
  readonly file: string | undefined;
  /** 1-based line in `file`, when known. */
  readonly line: number | undefined;

  constructor(message: string, where: { file?: string; line?: number; cause?: unknown } = {}) {
    const at = where.file === undefined ? '' : where.line === undefined ? `${where.file}: ` : `${where.file}:${where.line}: `;
    super(at + message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'FormatError';
    this.file = where.file;
    this.line = where.line;
  }
}
