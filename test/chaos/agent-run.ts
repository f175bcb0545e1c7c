/**
 * One agent process of a chaos run: the CLI from the sources with the Node
 * flags it is installed with (bin/logship.js's shebang: the memory figures
 * are those of the agent as deployed), its JSON log kept in memory and in a
 * file beside the run, its peak RSS (VmHWM from /proc, sampled while it
 * runs: a killed process takes its own figure with it), the RSS bound it
 * states for its settings, and its counters (/metrics, scraped while it
 * runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { memory } from '../../bench/proc-stats.ts';
import { agentNodeFlags } from '../../scripts/agent-launch.ts';
import { CLI, type LogLine } from '../support/agent.ts';
import { onJsonLines } from '../support/json-lines.ts';
import { waitFor } from '../support/wait.ts';

const SAMPLE_MS = 200;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class AgentRun {
  readonly n: number;
  readonly child: ChildProcess;
  readonly command: string[];
  readonly logs: LogLine[] = [];
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  exit: Exit | undefined;
  /** Why it ended, as the harness caused it ("SIGKILL 420 ms after logrotate #3", "end of run"). */
  endedBy = '';
  peakRssBytes = 0;
  /** The most RSS the agent says its settings take (logship_memory_bound_bytes; it grows with the files followed): the largest seen. */
  memoryBoundBytes: number | undefined;
  /** The last /metrics figures read: by name (summed over labels) and by series (`name{labels}`). */
  metrics = new Map<string, number>();
  /** When the harness signalled it to stop (SIGTERM or SIGKILL). */
  signalledAt: number | undefined;
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly sampler: NodeJS.Timeout;
  private port: number | undefined;

  constructor(n: number, config: string, logFile: string) {
    this.n = n;
    this.command = [process.execPath, ...agentNodeFlags(), CLI, 'run', '--config', config];
    this.child = spawn(this.command[0]!, this.command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(logFile);
    onJsonLines(this.child.stdout!, (line) => {
      const entry = typeof line === 'string' ? { level: 0, msg: line } : (line as LogLine);
      this.logs.push(entry);
      if (entry.msg === 'metrics and health endpoints listening') this.port = (entry.address as { port: number }).port;
    });
    this.child.stdout!.on('data', (chunk: string) => file.write(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      file.write(chunk);
    });
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        clearInterval(this.sampler);
        this.endedAt = Date.now();
        this.exit = { code, signal };
        file.end();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  private sample(): void {
    try {
      const { peakRss } = memory(this.pid);
      // NaN once the process is a zombie: /proc still has it, without its memory lines.
      if (peakRss > this.peakRssBytes) this.peakRssBytes = peakRss;
    } catch {
      // exited between the check and the read
    }
  }

  /** Resolves once the agent runs (its inputs started), or rejects with its stderr if it exits first. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `agent #${this.n} to start`,
      () => {
        if (!this.running) throw new Error(`agent #${this.n} exited with ${JSON.stringify(this.exit)}: ${this.stderr.slice(-1000)}`);
        return this.logs.some((l) => l.msg === 'logship running');
      },
      timeoutMs,
      50,
    );
  }

  /** Reads /metrics into `metrics` (name → value, summed over labels); false when the agent does not answer. */
  async scrape(): Promise<boolean> {
    if (this.port === undefined || !this.running) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(2_000) });
      const metrics = new Map<string, number>();
      for (const line of (await res.text()).split('\n')) {
        const m = /^(logship_[a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!m) continue;
        metrics.set(m[1]!, (metrics.get(m[1]!) ?? 0) + Number(m[3]));
        if (m[2]) metrics.set(m[1]! + m[2], Number(m[3]));
      }
      this.metrics = metrics;
      const bound = metrics.get('logship_memory_bound_bytes');
      if (bound !== undefined && !(bound <= (this.memoryBoundBytes ?? 0))) this.memoryBoundBytes = bound;
      this.sample();
      return true;
    } catch {
      return false;
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.sample();
    if (this.running) this.child.kill(signal);
  }

  /**
   * Sends `signal` and waits for the exit; a SIGTERM that does not end the
   * agent within `graceMs` is followed by SIGKILL (and says so in the result).
   */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<Exit & { forced: boolean }> {
    if (this.running) this.signalledAt ??= Date.now();
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const forced = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (forced) this.child.kill('SIGKILL');
    return { ...(await this.exited), forced };
  }
}
