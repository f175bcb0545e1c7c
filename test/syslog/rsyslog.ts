/**
 * Debian's rsyslogd as a relay, with its own configuration in a temporary
 * directory (not the system instance): in the foreground (-n), its own pid
 * file (-i), no system inputs (only what the configuration loads). Stopped
 * by the test's `t.after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/wait.ts';

interface After {
  after(fn: () => unknown): void;
}

export interface RelayAction {
  /** The agent's TCP port. */
  port: number;
  framing: 'octet-counted' | 'traditional';
  /** An rsyslog template: RSYSLOG_SyslogProtocol23Format (RFC 5424), RSYSLOG_ForwardFormat (RFC 3164 with an RFC 3339 time)... */
  template: string;
}

export class Rsyslog {
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;
  private output = '';

  private constructor(dir: string, udpPort: number, actions: RelayAction[]) {
    const work = join(dir, 'work');
    mkdirSync(work, { recursive: true });
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${work}")`,
        'module(load="imudp")',
        `input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="relay")`,
        'ruleset(name="relay") {',
        ...actions.map(
          (a) =>
            // A disk-less in-memory queue per action, retried forever: rsyslog's usual relay setup.
            `  action(type="omfwd" target="127.0.0.1" port="${a.port}" protocol="tcp" TCP_Framing="${a.framing}" template="${a.template}" queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")`,
        ),
        '}',
        '',
      ].join('\n'),
    );
    this.child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.child.once('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }

  /** Starts rsyslogd receiving UDP on `udpPort` and relaying to `actions`; resolves once its UDP socket is bound. */
  static async start(t: After, dir: string, udpPort: number, actions: RelayAction[]): Promise<Rsyslog> {
    const relay = new Rsyslog(dir, udpPort, actions);
    t.after(() => relay.stop());
    const hex = `:${udpPort.toString(16).toUpperCase().padStart(4, '0')} `;
    await waitFor(`rsyslogd bound to udp 127.0.0.1:${udpPort} (output: ${relay.output})`, () => {
      if (relay.child.exitCode !== null) throw new Error(`rsyslogd exited: ${relay.output}`);
      return readFileSync('/proc/net/udp', 'utf8').includes(`0100007F${hex}`);
    }, 10_000, 50);
    return relay;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
