/**
 * What the OS knows about a process and the machine, read from /proc (Linux):
 * CPU time (user + sys), resident memory and its high-water mark, load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuTimes {
  /** Seconds in user mode. */
  user: number;
  /** Seconds in the kernel on the process's behalf. */
  sys: number;
}

/**
 * utime + stime of a running process (all its threads), from /proc/<pid>/stat.
 * Resolution: one clock tick (10 ms). Throws when the process is gone.
 */
export function cpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may hold spaces and parentheses: count fields from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return { user: Number(fields[11]) / CLOCK_TICKS, sys: Number(fields[12]) / CLOCK_TICKS };
}

export function cpuSeconds(t: CpuTimes): number {
  return t.user + t.sys;
}

/**
 * CPU seconds of all the process's threads from the scheduler's own clock
 * (/proc/<pid>/task/<tid>/schedstat, ns): exact where utime + stime only
 * count 10 ms ticks, which an idle process's sub-millisecond wake-ups
 * dodge or hit by chance. Threads that ended are not counted.
 */
export function schedCpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

export interface Memory {
  /** Resident set now, bytes. */
  rss: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  peakRss: number;
  /** Of the resident set: anonymous memory (heaps, stacks), and pages of mapped files (the node binary's code and data, shared with every node process). */
  anon: number;
  file: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM'), anon: kib('RssAnon'), file: kib('RssFile') };
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? m[1]!.trim() : 'unknown';
}

export function cpuCount(): number {
  try {
    return Number(execFileSync('nproc').toString().trim());
  } catch {
    return availableParallelism();
  }
}

/** The pid of the process whose command line contains `needle` (e.g. our broker's own server.properties path). */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(needle))) {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (comm !== 'bash') return Number(entry);
      }
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
