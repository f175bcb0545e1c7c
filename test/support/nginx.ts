/**
 * Real peers for integration tests: Debian's nginx (one instance per test,
 * in a temporary prefix, on a free loopback port), wrk for load, and
 * logrotate for rotation. Every process started here is stopped by the
 * test's `t.after`, also when the test fails, and by this process's exit as
 * a last resort.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait.ts';

import { freePort } from './free-port.ts';

const run = promisify(execFile);

interface After {
  after(fn: () => unknown): void;
}


/** Fails with what to do when a Debian tool the integration tests need is missing. */
export async function requireTool(command: string, versionArg: string): Promise<void> {
  try {
    await run(command, [versionArg]);
  } catch (err) {
    // wrk exits 1 on `-v` after printing its version: only "not found" matters.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not installed: run scripts/setup (it installs Debian's nginx, wrk and logrotate)`);
    }
  }
}

export interface NginxOptions {
  /** The access log the agent follows (rotated by the test). */
  accessLog: string;
  /**
   * A second access log of the same requests, in the same format, that
   * nothing rotates: nginx's own line-by-line record of every request it
   * logged, in order. Omit to write only `accessLog`.
   */
  truthLog?: string;
  /** `combined` (nginx's predefined format) or a log_format string (single-quoted in nginx.conf). */
  logFormat?: string;
}

export interface StubStatus {
  active: number;
  accepts: number;
  handled: number;
  /** Every request nginx allocated since it started, the status queries included. */
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}

/**
 * One nginx (master + one worker) in its own prefix directory, in the
 * foreground (`daemon off`), so the spawned process is the master.
 *
 * Locations: `/` serves `www/index.html` (static file), `/ok` is `return 200`,
 * `/nginx-status` is stub_status with `access_log off`.
 */
export class Nginx {
  readonly prefix: string;
  readonly port: number;
  readonly pidFile: string;
  readonly errorLog: string;
  readonly options: NginxOptions;
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private stderr = '';
  /** stub_status queries made so far: each one is a request nginx counts but does not log. */
  private statusQueries = 0;

  private constructor(prefix: string, port: number, options: NginxOptions) {
    this.prefix = prefix;
    this.port = port;
    this.pidFile = join(prefix, 'nginx.pid');
    this.errorLog = join(prefix, 'error.log');
    this.options = options;
  }

  /** Starts nginx in `prefix` (created if needed) and waits until it answers; stopped by `t.after`. */
  static async start(t: After, prefix: string, options: NginxOptions): Promise<Nginx> {
    mkdirSync(join(prefix, 'www'), { recursive: true });
    writeFileSync(join(prefix, 'www', 'index.html'), '<!doctype html><title>logship</title><p>hello from nginx\n');
    // A port can be taken between freePort() and nginx's bind: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const nginx = new Nginx(prefix, await freePort(), options);
      t.after(() => nginx.stop());
      try {
        await nginx.launch();
        return nginx;
      } catch (err) {
        lastError = err;
        await nginx.stop();
      }
    }
    throw lastError;
  }

  private config(): string {
    const { accessLog, truthLog, logFormat = 'combined' } = this.options;
    const formatName = logFormat === 'combined' ? 'combined' : 'logship_test';
    const p = this.prefix;
    const lines = [
      // As root, nginx would run its worker as `nobody`, which cannot enter a
      // 0700 temporary directory to reopen the logs on USR1 or read the
      // static file. The worker runs as the user that runs the tests.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'worker_processes 1;',
      `pid ${p}/nginx.pid;`,
      `error_log ${p}/error.log notice;`,
      'events { worker_connections 256; }',
      'http {',
      '  default_type text/html;',
      // Debian's build points the temp paths at /var/lib/nginx: keep everything in the prefix.
      `  client_body_temp_path ${p}/tmp/body;`,
      `  proxy_temp_path ${p}/tmp/proxy;`,
      `  fastcgi_temp_path ${p}/tmp/fastcgi;`,
      `  uwsgi_temp_path ${p}/tmp/uwsgi;`,
      `  scgi_temp_path ${p}/tmp/scgi;`,
      ...(formatName === 'combined' ? [] : [`  log_format ${formatName} '${logFormat.replaceAll("'", "\\'")}';`]),
      '  server {',
      `    listen 127.0.0.1:${this.port};`,
      `    access_log ${accessLog} ${formatName};`,
      ...(truthLog ? [`    access_log ${truthLog} ${formatName};`] : []),
      `    root ${p}/www;`,
      '    location = /ok { return 200 "ok\\n"; }',
      '    location = /nginx-status { stub_status; access_log off; }',
      '  }',
      '}',
    ];
    return lines.join('\n') + '\n';
  }

  private async launch(): Promise<void> {
    mkdirSync(join(this.prefix, 'tmp'), { recursive: true });
    const conf = join(this.prefix, 'nginx.conf');
    writeFileSync(conf, this.config());
    // -e: the error log from the first moment (Debian's default is stderr).
    const child = spawn('nginx', ['-p', this.prefix, '-e', this.errorLog, '-c', conf, '-g', 'daemon off; master_process on;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // its own process group: the worker can be reached too if the master must be killed
    });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', () => undefined);
    const exitGuard = (): void => {
      try {
        process.kill(child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    process.once('exit', exitGuard);
    void this.exited.then(() => process.removeListener('exit', exitGuard));

    let probes = 0;
    await waitFor(
      `nginx on 127.0.0.1:${this.port} (stderr: ${this.stderr.slice(-300)}; error.log: ${this.errorLogTail()})`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited: ${this.stderr} ${this.errorLogTail()}`);
        // Each probe is a distinct request line, so a probe that timed out but was logged later is not a duplicate.
        return existsSync(this.pidFile) && (await this.get(`/ok?ready=${++probes}`)).status === 200;
      },
      10_000,
      50,
    );
  }

  /** The master's pid (what logrotate's postrotate signals). */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('nginx is not running');
    return pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /**
   * `count` requests, one after another (each logged before the next is
   * sent), to `path` with `?n=<i>` appended: lines written at a moment the
   * test chooses, e.g. right after a rotation.
   */
  async request(count: number, path = '/'): Promise<void> {
    for (let i = 0; i < count; i++) {
      const { status } = await this.get(`${path}?n=${i}`);
      if (status !== 200) throw new Error(`nginx answered ${status} to ${path}`);
    }
  }

  private async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(this.url(path), { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  }

  /** Sends a signal to the master: USR1 reopens the logs, QUIT stops gracefully, TERM fast. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`nginx is not running (cannot send ${signal})`);
    process.kill(this.pid, signal);
  }

  /** nginx's own counters (stub_status). */
  async status(): Promise<StubStatus> {
    this.statusQueries++;
    const { status, body } = await this.get('/nginx-status');
    const m = /Active connections:\s*(\d+)\s+server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)\s+Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/.exec(body);
    if (status !== 200 || !m) throw new Error(`unexpected stub_status answer ${status}: ${body}`);
    const [active, accepts, handled, requests, reading, writing, waiting] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
    return { active, accepts, handled, requests, reading, writing, waiting };
  }

  /**
   * Requests nginx has logged, by its own count: stub_status `requests`
   * counts every request it allocated, including each stub_status query
   * (the current one too), which `access_log off` keeps out of the logs.
   * Waits until no other connection is open, so every request has been
   * finalised (and written to the log) before it is counted.
   */
  async loggedRequests(): Promise<number> {
    const status = await waitFor(
      'nginx idle (only the status query open)',
      async () => {
        const s = await this.status();
        return s.active === 1 && s.writing === 1 && s.reading === 0 ? s : undefined;
      },
      10_000,
      50,
    );
    return status.requests - this.statusQueries;
  }

  errorLogTail(bytes = 2_000): string {
    try {
      return readFileSync(this.errorLog, 'utf8').slice(-bytes);
    } catch {
      return '';
    }
  }

  /** Stops nginx (QUIT: finish requests, then exit); TERM, then KILL of its group, if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    const exited = this.exited;
    const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);
    const send = (signal: NodeJS.Signals, pid: number) => {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    };
    if (!this.running) return;
    send('SIGQUIT', child.pid!);
    if (await within(5_000)) return;
    send('SIGTERM', child.pid!);
    if (await within(3_000)) return;
    send('SIGKILL', -child.pid!); // the group: master and worker
    await exited;
  }
}

export interface WrkResult {
  /** Responses wrk completed (nginx may log a few more: requests cut off when the duration ends). */
  requests: number;
  stdout: string;
}

export interface WrkOptions {
  threads?: number;
  connections?: number;
  durationSeconds: number;
  /** Lua script for wrk (-s). */
  script?: string;
}

/**
 * wrk against a URL on 127.0.0.1 only, for a bounded duration; killed by
 * `t.after` if still running.
 */
export class Wrk {
  readonly done: Promise<WrkResult>;
  private readonly child: ChildProcess;
  private finished = false;
  private stopping = false;

  constructor(t: After, url: string, options: WrkOptions) {
    const parsed = new URL(url);
    if (parsed.hostname !== '127.0.0.1') throw new Error(`wrk only against 127.0.0.1, not ${parsed.hostname}`);
    if (!(options.durationSeconds > 0 && options.durationSeconds <= 30)) throw new Error('wrk duration must be 1..30 s');
    const args = [
      `-t${options.threads ?? 1}`,
      `-c${options.connections ?? 8}`,
      `-d${options.durationSeconds}s`,
      '--timeout',
      '2s',
      ...(options.script ? ['-s', options.script] : []),
      url,
    ];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    this.done = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        this.finished = true;
        // Stopped before it set up its SIGINT handler, wrk dies of the signal: a stop all the same, its figures unknown.
        const stopped = this.stopping && signal === 'SIGINT';
        if (code !== 0 && !stopped) return reject(new Error(`wrk exited with ${code ?? signal}: ${stderr}${stdout}`));
        const m = /(\d+) requests in/.exec(stdout);
        resolve({ requests: m ? Number(m[1]) : NaN, stdout });
      });
    });
    this.done.catch(() => undefined); // observed by whoever awaits it
    t.after(() => {
      if (!this.finished) child.kill('SIGKILL');
    });
  }

  get running(): boolean {
    return !this.finished;
  }

  /** Ends the load now (SIGINT: wrk stops and prints its figures); resolves with them. */
  async stop(): Promise<WrkResult> {
    this.stopping = true;
    if (!this.finished) this.child.kill('SIGINT');
    return this.done;
  }
}

/**
 * Load for longer than one wrk run may last: wrk runs of `segmentSeconds`
 * one after another until stop(). `requests` adds up the responses of the
 * runs that ended.
 */
export class WrkLoop {
  requests = 0;
  runs = 0;
  private current: Wrk | undefined;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(t: After, url: string, options: Omit<WrkOptions, 'durationSeconds'> & { segmentSeconds?: number }) {
    const { segmentSeconds = 20, ...rest } = options;
    this.loop = (async () => {
      while (!this.stopped) {
        this.current = new Wrk(t, url, { ...rest, durationSeconds: segmentSeconds });
        this.runs++;
        const { requests } = await this.current.done.catch((err: unknown) => {
          if (this.stopped) return { requests: 0 }; // cut off by stop(): no figures to add
          throw err;
        });
        this.requests += requests;
      }
    })();
    this.loop.catch(() => undefined); // observed by stop()
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Ends the current run and the loop; rejects if a run failed before. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.stop().catch(() => undefined);
    await this.loop;
  }
}

/**
 * A wrk script making every request unique, `/?r=<thread>-<n>`, so each
 * logged line can be matched; each connection waits `delayMs` after every
 * response, which bounds the rate (wrk 4 has no rate option) and so the
 * volume a test must ship: at most connections * 1000 / delayMs requests/s.
 */
export function writeUniqueRequestScript(file: string, delayMs = 0): string {
  writeFileSync(
    file,
    [
      'local threads = 0',
      'function setup(thread)',
      '  threads = threads + 1',
      '  thread:set("tid", threads)',
      'end',
      'local n = 0',
      'function request()',
      '  n = n + 1',
      '  return wrk.format("GET", "/?r=" .. tid .. "-" .. n)',
      'end',
      ...(delayMs > 0 ? ['function delay()', `  return ${Math.round(delayMs)}`, 'end'] : []),
      '',
    ].join('\n'),
  );
  return file;
}

export type RotateMode = 'create' | 'copytruncate';

/**
 * Debian's logrotate with a generated configuration and its own state file,
 * forced (`-f`) on each call. `create`: rename, create a new file, then USR1
 * to this nginx's master (reopen). `copytruncate`: copy, then truncate the
 * file nginx keeps writing (no signal).
 */
export class Logrotate {
  readonly config: string;
  readonly state: string;
  readonly log: string;
  readonly mode: RotateMode;
  rotations = 0;

  constructor(dir: string, log: string, mode: RotateMode, nginx: Nginx, keep = 20) {
    this.log = log;
    this.mode = mode;
    this.config = join(dir, 'logrotate.conf');
    this.state = join(dir, 'logrotate.state');
    const body =
      mode === 'create'
        ? ['  create', '  sharedscripts', '  postrotate', `    kill -USR1 $(cat ${nginx.pidFile})`, '  endscript']
        : ['  copytruncate'];
    writeFileSync(
      this.config,
      [`${log} {`, `  rotate ${keep}`, '  missingok', '  ifempty', '  nocompress', '  nodateext', ...body, '}', ''].join('\n'),
      { mode: 0o644 },
    );
  }

  /** One forced rotation; rejects with logrotate's output if it fails. */
  async rotate(): Promise<void> {
    try {
      await run('logrotate', ['-s', this.state, '-f', this.config], { timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`logrotate failed: ${e.message} ${e.stderr ?? ''} ${e.stdout ?? ''}`);
    }
    this.rotations++;
  }

  /**
   * copytruncate frozen part-way through logrotate's copy: logrotate is
   * stopped (SIGSTOP) once its copy (`<log>.1`) holds `atBytes`, and goes
   * on (SIGCONT) when `whilePaused` resolves. That is the state a large
   * file or a slow disk leaves the copy in for a while, made on purpose:
   * logrotate 3.x copies with 8 KiB reads and writes, so the stop usually
   * lands within a few of them of `atBytes`. On a busy machine it can land
   * after the copy is whole (or the file is not larger than `atBytes`):
   * then `whilePaused` is not called, the rotation is a plain one, and
   * this resolves false.
   */
  async rotatePausedMidCopy(atBytes: number, whilePaused: (copy: { path: string; bytes: number; of: number }) => Promise<void>): Promise<boolean> {
    if (this.mode !== 'copytruncate') throw new Error('a copy to pause in exists only with copytruncate');
    const copy = `${this.log}.1`;
    const previous = statSync(copy, { throwIfNoEntry: false })?.ino; // renamed to .2 by this rotation
    const of = statSync(this.log).size;
    if (of <= atBytes) {
      await this.rotate(); // too small to stop half-way
      return false;
    }
    const child = spawn('logrotate', ['-s', this.state, '-f', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    const exited = new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', (code) => resolve(code)));
    let bytes = -1;
    try {
      // Polled synchronously, without yielding: a timer would let the copy finish first.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const s = statSync(copy, { throwIfNoEntry: false });
        if (s && s.ino !== previous && s.size >= atBytes) {
          process.kill(child.pid!, 'SIGSTOP');
          bytes = statSync(copy).size;
          break;
        }
      }
      if (bytes < 0) throw new Error(`logrotate's copy ${copy} did not reach ${atBytes} bytes within 5 s`);
      if (bytes < of) await whilePaused({ path: copy, bytes, of });
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGCONT');
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`logrotate failed (exit ${code}): ${output}`);
    this.rotations++;
    return bytes < of;
  }
}
