/**
 * A real Redis (Debian's redis-server) for the tests and the benchmark, on
 * a free loopback port, its files in a temporary directory. No RDB
 * snapshots (`--save ''`); with `durable` (the default) the append-only
 * file is fsynced on every write, so what Redis acknowledged survives
 * kill(): a restart then shows what a real crash leaves. Extra server
 * arguments (e.g. an ACL user) go in `args`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether the server answers PING with PONG (a refused or loading server does not). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.setEncoding('utf8').on('data', (d: string) => {
      reply += d;
      if (!reply.includes('\r\n')) return;
      socket.destroy();
      resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
    socket.once('error', () => resolve(false));
  });
}

export class LocalRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'logship-redis-'));
  port = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly args: string[];

  constructor(options: { durable?: boolean; args?: string[] } = {}) {
    const durable = options.durable ?? true;
    this.args = [...(durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']), ...(options.args ?? [])];
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, after stop() or kill(), on the same port and files); resolves when it answers. */
  async start(): Promise<string> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--daemonize', 'no', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    while (!(await pong(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start (exit ${child.exitCode}): ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.url;
  }

  /** SIGSTOP: connections stay open, nothing is answered (a hung server). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.thaw();
    this.child.kill('SIGTERM');
    await this.exited;
  }

  /** A crash: SIGKILL. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
