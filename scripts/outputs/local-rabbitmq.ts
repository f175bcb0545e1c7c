/**
 * A real RabbitMQ node (Debian's rabbitmq-server) for the tests and the
 * benchmark, on free loopback ports, all its state in a temporary
 * directory: its own node name, Erlang distribution port and epmd port, so
 * it disturbs no RabbitMQ of the machine and runs beside other test nodes.
 * No plugins. The guest user (loopback only) is its one user.
 *
 * stop() + start() is a broker restart (the data stays); kill() is a crash;
 * freeze() a hung node; memoryAlarm() a resource alarm.
 * The node runs under Debian's rabbitmq-server script, which turns SIGTERM
 * into a clean stop.
 * close() stops the node and its epmd and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The scripts Debian's package installs (the /usr/sbin wrappers switch to the rabbitmq user, which needs root). */
const BIN = '/usr/lib/rabbitmq/bin';

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

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket
      .once('connect', () => {
        socket.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false));
  });
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', (err) => resolve({ code: -1, output: err.message }));
    child.once('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

export class LocalRabbitmq {
  readonly dir = mkdtempSync(join(tmpdir(), 'logship-rabbitmq-'));
  port = 0;
  private env: NodeJS.ProcessEnv = {};
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly startTimeoutMs: number;

  constructor(options: { startTimeoutMs?: number } = {}) {
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
  }

  /** amqp://127.0.0.1:<port> (no credentials: guest by default). */
  get url(): string {
    return `amqp://127.0.0.1:${this.port}`;
  }

  get nodename(): string {
    return String(this.env.RABBITMQ_NODENAME);
  }

  /** Starts the node (again, after stop() or kill(), on the same ports and data); resolves when it serves AMQP. */
  async start(): Promise<string> {
    if (this.port === 0) {
      const [port, dist, epmd] = [await freePort(), await freePort(), await freePort()];
      this.port = port;
      writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\nlog.console = false\nlog.file.level = warning\n`);
      writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
      this.env = {
        PATH: process.env.PATH,
        LANG: 'C.UTF-8',
        // The Erlang cookie lives in $HOME: the node and rabbitmqctl must share it.
        HOME: this.dir,
        RABBITMQ_NODENAME: `logship${port}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(dist),
        ERL_EPMD_PORT: String(epmd),
        ERL_EPMD_ADDRESS: '127.0.0.1',
        RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(this.dir, 'log'),
        RABBITMQ_PID_FILE: join(this.dir, 'rabbitmq.pid'),
      };
    }
    const child = spawn(join(BIN, 'rabbitmq-server'), [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + this.startTimeoutMs;
    // The AMQP listener opens last; polling it costs nothing, unlike an Erlang CLI per try.
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rabbitmq-server did not start (exit ${child.exitCode}): ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const ready = await this.ctl('await_startup', '--timeout', '60');
    if (ready.code !== 0) throw new Error(`rabbitmqctl await_startup: ${ready.output}`);
    return this.url;
  }

  /** rabbitmqctl against this node. */
  ctl(...args: string[]): Promise<{ code: number; output: string }> {
    return run(join(BIN, 'rabbitmqctl'), ['-n', this.nodename, ...args], this.env);
  }

  /** A clean stop (a broker restart is stop() then start()). */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  /** A crash: SIGKILL to the Erlang VM (the script's child, named by the pid file), nothing flushed but what RabbitMQ had made durable. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    process.kill(Number(readFileSync(String(this.env.RABBITMQ_PID_FILE), 'utf8').trim()), 'SIGKILL');
    await this.exited;
  }

  /** SIGSTOP to the Erlang VM: connections stay open, nothing is answered (a hung node). */
  freeze(): void {
    this.signalVm('SIGSTOP');
  }

  thaw(): void {
    this.signalVm('SIGCONT');
  }

  private signalVm(signal: NodeJS.Signals): void {
    if (!this.child || this.child.exitCode !== null) return;
    process.kill(Number(readFileSync(String(this.env.RABBITMQ_PID_FILE), 'utf8').trim()), signal);
  }

  /** A memory alarm on (the node blocks every publishing connection) or off (back to RabbitMQ's default watermark, 0.4). */
  async memoryAlarm(on: boolean): Promise<void> {
    const set = await this.ctl('set_vm_memory_high_watermark', on ? '0' : '0.4');
    if (set.code !== 0) throw new Error(`rabbitmqctl set_vm_memory_high_watermark: ${set.output}`);
  }

  async close(): Promise<void> {
    await this.stop();
    // The node started an epmd daemon on its own port: it outlives the node.
    if (this.env.ERL_EPMD_PORT) await run('epmd', ['-port', String(this.env.ERL_EPMD_PORT), '-kill'], this.env);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
