/**
 * A lock file naming its holder: the pid, and the pid's start time from
 * /proc. Used for the state dir (`<state_dir>/agent.lock`) and the spool
 * directory (`<dir>/lock`).
 *
 * No timer and no kernel lock: a holder that is gone (crash, SIGKILL) is
 * told from a live one by asking the kernel about that pid; the start time
 * tells a reused pid (a container restarted, whose agent is pid 1 again)
 * from the holder. The file is written whole under a temporary name and
 * linked into place (link fails if it exists); a stale one is taken over by
 * renaming it aside, so of two processes starting at once after a crash
 * only one takes it over.
 */
import { hostname } from 'node:os';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

export interface LockHolder {
  pid: number;
  /** The pid's start time (clock ticks since boot, /proc/<pid>/stat field 22); undefined where /proc is not there. */
  started?: string;
  host?: string;
  /** What took it: `run`, `checkpoints set`, `spool replay`... */
  command?: string;
}

/** A live process holds the lock. */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  readonly file: string;
  readonly holder: LockHolder;
  constructor(file: string, holder: LockHolder) {
    super(`${file} is held by pid ${holder.pid}`);
    this.file = file;
    this.holder = holder;
  }
}

/** A process's state letter and start time from /proc, or undefined when it does not exist or there is no /proc. */
function procStat(pid: number): { state: string; started: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, started: fields[19]! };
  } catch {
    return undefined;
  }
}

const startTimeOf = (pid: number): string | undefined => procStat(pid)?.started;

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not reaped yet: a container whose init does not reap) holds nothing.
  const state = procStat(pid)?.state;
  return state !== 'Z' && state !== 'X';
}

/** Whether the process that wrote `holder` still runs. */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.pid === process.pid && holder.started === startTimeOf(process.pid)) return true;
  if (holder.pid === process.pid || !exists(holder.pid)) return false;
  // The pid runs: the holder only if it started when the holder did (else the pid was reused).
  const started = startTimeOf(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

/** JSON, or a bare pid as spool locks of earlier versions hold. */
function parseHolder(text: string): LockHolder | undefined {
  if (/^\d+\s*$/.test(text)) return { pid: Number.parseInt(text, 10) };
  try {
    const data = JSON.parse(text) as Partial<LockHolder>;
    return typeof data.pid === 'number' && data.pid > 0 ? (data as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** The lock's holder, if the file is there and names one (alive or not). */
export function readHolder(file: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class PidLock {
  readonly file: string;
  private readonly text: string;
  private released = false;

  private constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
  }

  /**
   * Takes `file` (its directory must exist) for this process; throws
   * LockHeldError when a live process holds it. A lock left by a process
   * that is gone is taken over: `tookOver` says whose.
   */
  static take(file: string, command: string): { lock: PidLock; tookOver?: LockHolder } {
    const me: LockHolder = { pid: process.pid, started: startTimeOf(process.pid), host: hostname(), command };
    const text = JSON.stringify(me) + '\n';
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o640 });
    try {
      let tookOver: LockHolder | undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(temp, file);
          return { lock: new PidLock(file, text), tookOver };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        let current: string;
        try {
          current = readFileSync(file, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
          throw err;
        }
        const holder = parseHolder(current);
        if (holder && holderAlive(holder)) throw new LockHeldError(file, holder);
        // Stale (or unreadable junk): move it aside, and check it is still the one judged stale.
        const aside = `${file}.stale.${process.pid}`;
        try {
          renameSync(file, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another starter moved it
          throw err;
        }
        const moved = readFileSync(aside, 'utf8');
        if (moved !== current) {
          // Another starter's fresh lock went aside: put it back (unless yet another took its place) and look again.
          try {
            linkSync(aside, file);
          } catch {
            // taken meanwhile: the next round judges that one
          }
          unlinkSync(aside);
          continue;
        }
        unlinkSync(aside);
        tookOver = holder;
      }
      const holder = readHolder(file);
      throw holder ? new LockHeldError(file, holder) : new Error(`${file}: could not take the lock (contended)`);
    } finally {
      unlinkSync(temp);
    }
  }

  /** Removes the lock if it is still this process's. Synchronous: also called from an 'exit' handler. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readFileSync(this.file, 'utf8') === this.text) unlinkSync(this.file);
    } catch {
      // gone already
    }
  }
}
