/**
 * Rotated history made by Debian's logrotate itself (`compress`,
 * `delaycompress`, its own state file and config in the test's directory):
 * access.log.1 plain, access.log.2.gz … gzip, as on a real host.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { combinedLines } from '../support/combined-lines.ts';

const run = promisify(execFile);

export class RotatedLog {
  readonly log: string;
  readonly dir: string;
  private readonly config: string;
  private readonly state: string;
  /** The next line's index: every line is combinedLine(i), unique by `/item/<i>`. */
  next = 0;

  constructor(dir: string, keep = 14) {
    this.dir = dir;
    this.log = join(dir, 'access.log');
    this.config = join(dir, 'logrotate.conf');
    this.state = join(dir, 'logrotate.state');
    writeFileSync(this.config, [`${this.log} {`, `  rotate ${keep}`, '  compress', '  delaycompress', '  missingok', '  ifempty', '  nodateext', '  create', '}', ''].join('\n'), { mode: 0o644 });
    writeFileSync(this.log, '');
  }

  /** Appends `count` new lines to access.log; returns the range of their indexes. */
  write(count: number): { from: number; to: number } {
    const from = this.next;
    appendFileSync(this.log, combinedLines(from, count));
    this.next += count;
    return { from, to: this.next };
  }

  /** One forced rotation by logrotate. */
  async rotate(): Promise<void> {
    try {
      await run('logrotate', ['-s', this.state, '-f', this.config], { timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`logrotate failed: ${e.message} ${e.stderr ?? ''}`);
    }
  }

  /** The files beside access.log, sorted by name. */
  files(): string[] {
    return readdirSync(this.dir).filter((f) => f.startsWith('access.log')).sort();
  }
}

/** The line index of a record (combined lines carry `/item/<i>`), from its Kafka value. */
export function lineIndexOf(value: string): number {
  const record = JSON.parse(value) as { request_uri?: string; request?: string; _raw?: string };
  const text = record.request ?? record.request_uri ?? record._raw ?? '';
  const m = /\/item\/(\d+)/.exec(text);
  if (!m) throw new Error(`no /item/<i> in record ${value.slice(0, 200)}`);
  return Number(m[1]);
}
