import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { onJsonLines } from './json-lines.ts';
import { waitFor } from './wait.ts';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real agent process (the CLI), its JSON log collected line by line. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    onJsonLines(this.child.stdout!, (line) => this.logs.push(typeof line === 'string' ? { level: 0, msg: line } : (line as LogLine)));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits for a log line whose msg includes `text` (and that passes `filter`). */
  waitForLog(text: string, filter: (line: LogLine) => boolean = () => true, timeoutMs = 30_000): Promise<LogLine> {
    return waitFor(`agent log "${text}" (stderr: ${this.stderr.slice(-500)})`, () => this.logs.find((l) => l.msg.includes(text) && filter(l)), timeoutMs);
  }

  /** GET a path of the agent's metrics/health server (its port is read from the agent's log). */
  async http(path: string): Promise<{ status: number; body: string }> {
    const line = await this.waitForLog('metrics and health endpoints listening');
    const { port } = line.address as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** A temporary directory for one test, removed afterwards. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'logship-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a YAML config into `dir` and returns its path; metrics listen on a free port unless the config says otherwise. */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'logship.yaml');
  writeFileSync(file, stringify({ metrics: { listen: '127.0.0.1:0' }, ...config }));
  return file;
}
