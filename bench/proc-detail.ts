/**
 * More of what /proc knows about one process (Linux), beside proc-stats.ts:
 * what its descriptors are (log files, sockets, inotify instances and how
 * many watches each holds) and its CPU time per thread, so a cost can be
 * told apart: the JavaScript thread, libuv's threadpool (where fs calls
 * run), V8's helper threads (GC, compilation).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { CLOCK_TICKS } from './proc-stats.ts';

export interface Descriptors {
  /** Every open descriptor. */
  total: number;
  /** Descriptors of files under `under` (the log files the agent follows). */
  under: number;
  sockets: number;
  /** inotify instances (`anon_inode:inotify`) and the watches they hold together (one `inotify wd:` line each in fdinfo). */
  inotifyInstances: number;
  inotifyWatches: number;
}

/** The descriptors of `pid`, read from /proc/<pid>/fd and /proc/<pid>/fdinfo. */
export function descriptors(pid: number, under: string): Descriptors {
  const result: Descriptors = { total: 0, under: 0, sockets: 0, inotifyInstances: 0, inotifyWatches: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    result.total++;
    if (target.startsWith(under)) result.under++;
    else if (target.startsWith('socket:')) result.sockets++;
    else if (target === 'anon_inode:inotify') {
      result.inotifyInstances++;
      try {
        result.inotifyWatches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
      } catch {
        // closed meanwhile
      }
    }
  }
  return result;
}

/** CPU seconds (user + sys) per thread name (comm: MainThread, libuv-worker, V8Worker, ...), threads of one name added up. */
export function cpuByThread(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // comm is between the first '(' and the last ')' and may hold spaces; utime and stime are fields 14 and 15.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/** `after - before`, per thread name (threads that started meanwhile count from 0). */
export function cpuByThreadSince(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [name, seconds] of after) diff.set(name, seconds - (before.get(name) ?? 0));
  return diff;
}
