/**
 * The agent as installed, in a child process: bin/logship.js (dist/, so
 * build first) with the Node flags of its shebang, which systemd and the
 * image use; its JSON log collected line by line; its /metrics read.
 * test/support/agent.ts runs the TypeScript sources for the tests; a bench
 * measures what ships.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { AGENT_BIN, agentNodeFlags } from '../scripts/agent-launch.ts';
import type { LogLine } from '../test/support/agent.ts';
import { onJsonLines } from '../test/support/json-lines.ts';
import { waitFor } from '../test/support/wait.ts';

export class InstalledAgent {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `nodeFlags` come after the shebang's, so they can override them (e.g. --cpu-prof, --max-semi-space-size=4). */
  constructor(configFile: string, nodeFlags: string[] = []) {
    this.child = spawn(process.execPath, [...agentNodeFlags(), ...nodeFlags, AGENT_BIN, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    onJsonLines(this.child.stdout!, (line) => this.logs.push(typeof line === 'string' ? { level: 0, msg: line } : (line as LogLine)));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line whose msg is `msg`; fails as soon as the agent exits instead of waiting out the timeout. */
  async waitForLog(msg: string, timeoutMs = 60_000): Promise<LogLine> {
    const exited = this.exited.then((code) => {
      throw new Error(`agent exited (${code}) before logging "${msg}": ${this.stderr.slice(-1000)}`);
    });
    return Promise.race([waitFor(`agent log "${msg}"`, () => this.logs.find((l) => l.msg === msg), timeoutMs, 20), exited]);
  }

  /** /metrics, each metric's series added up (labels dropped). Costs the agent a scrape: not inside a measurement window. */
  async metrics(): Promise<Map<string, number>> {
    const listening = await this.waitForLog('metrics and health endpoints listening');
    const { port } = listening.address as { port: number };
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const values = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const name = /^[^{ ]+/.exec(line)![0];
      values.set(name, (values.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return values;
  }

  /** SIGTERM (the agent ships what is batched and saves checkpoints), then its exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** For clean-up on failure: no drain. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
