/**
 * A container's root filesystem in a directory, and commands run in it as an
 * engine would run them: chrooted into it, as the image's user, with only the
 * image's environment, in a mount namespace of their own (unshare) where the
 * host's system directories (/usr, /lib..., /dev, /proc) stand read-only for
 * the base image's Debian, and this test run's Node and npm sit where the
 * official node images have them (/usr/local/bin/node,
 * /usr/local/lib/node_modules/npm). The host's npm cache is /root/.npm, as a
 * BuildKit cache mount would be. The mounts end with the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface RunOptions {
  user: string;
  workdir: string;
  env: Record<string, string>;
  /** A network namespace of its own with only loopback, as a container has (no route to the host's services). */
  privateNetwork?: boolean;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The npm package that runs this test's `npm` (found on PATH). */
function npmPackageDir(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!existsSync(join(dir, 'npm'))) continue;
    for (let d = dirname(realpathSync(join(dir, 'npm'))); d !== '/'; d = dirname(d)) {
      const pkg = join(d, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'npm') return d;
    }
  }
  throw new Error('npm not found on PATH');
}

export class ImageRoot {
  /** [host path, path in the root]: mounted read-only for each command. */
  private readonly binds: [string, string][] = [];

  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** The base image: node:24-slim's layout over the host's Debian, a `node` user (1000) as in the official image. */
  static base(dir: string): ImageRoot {
    const root = new ImageRoot(dir);
    for (const sub of ['tmp', 'root/.npm', 'home/node', 'dev', 'proc', 'var', 'run', 'usr/local/bin', 'usr/local/lib/node_modules/npm']) mkdirSync(join(dir, sub), { recursive: true, mode: sub === 'tmp' ? 0o1777 : 0o755 });
    for (const entry of readdirSync('/usr')) if (entry !== 'local') root.mirror(`/usr/${entry}`);
    for (const entry of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) root.mirror(`/${entry}`);
    cpSync('/etc', join(dir, 'etc'), { recursive: true, verbatimSymlinks: true });
    if (!/^node:/m.test(readFileSync(join(dir, 'etc/passwd'), 'utf8'))) {
      appendFileSync(join(dir, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n');
      appendFileSync(join(dir, 'etc/group'), 'node:x:1000:\n');
    }
    writeFileSync(join(dir, 'usr/local/bin/node'), '');
    root.binds.push([process.execPath, '/usr/local/bin/node'], [npmPackageDir(), '/usr/local/lib/node_modules/npm']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(dir, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(dir, 'usr/local/bin/npx'));
    return root;
  }

  /** The host's `path` in the root: the same symlink, or a mount point for a read-only bind. */
  private mirror(path: string): void {
    if (!existsSync(path)) return;
    const target = join(this.dir, path);
    if (lstatSync(path).isSymbolicLink()) symlinkSync(readlinkSync(path), target);
    else if (lstatSync(path).isDirectory()) {
      mkdirSync(target, { recursive: true });
      this.binds.push([path, path]);
    }
  }

  /** uid:gid of a user (name or uid) in the root's /etc/passwd, and its home. */
  user(name: string): { uid: number; gid: number; home: string } {
    for (const line of readFileSync(join(this.dir, 'etc/passwd'), 'utf8').split('\n')) {
      const [user, , uid, gid, , home] = line.split(':');
      if (user === name || uid === name) return { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
    }
    throw new Error(`no user ${name} in ${this.dir}/etc/passwd`);
  }

  /** The command line that runs `argv` chrooted, as the user, in the workdir, with only `env`. */
  private chrooted(argv: string[], opts: RunOptions): string {
    const { uid, gid, home } = this.user(opts.user);
    const env = Object.entries({ HOME: home, ...opts.env }).map(([k, v]) => quote(`${k}=${v}`));
    return `chroot --userspec=${uid}:${gid} ${quote(this.dir)} /usr/bin/env -i --chdir=${quote(opts.workdir)} ${env.join(' ')} ${argv.map(quote).join(' ')}`;
  }

  /** Starts `argv` in the root; the child's pid is the command's own (each step execs the next). */
  spawn(argv: string[], opts: RunOptions): ChildProcess {
    const mounts = [
      ...this.binds.map(([from, to]) => `mount --bind -o ro ${quote(from)} ${quote(join(this.dir, to))}`),
      `mount --rbind /dev ${quote(join(this.dir, 'dev'))}`,
      `mount --rbind /proc ${quote(join(this.dir, 'proc'))}`,
      `mount --bind ${quote(process.env.npm_config_cache ?? join(homedir(), '.npm'))} ${quote(join(this.dir, 'root/.npm'))}`,
      // Loopback comes up with a new network namespace on current kernels; older ones need telling.
      ...(opts.privateNetwork ? ['if command -v ip >/dev/null; then ip link set lo up; fi'] : []),
    ];
    const script = `set -e; ${mounts.join('; ')}; exec ${this.chrooted(argv, opts)}`;
    const unshare = ['--mount', '--propagation', 'private', ...(opts.privateNetwork ? ['--net'] : [])];
    return spawn('unshare', [...unshare, '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs `argv` inside the namespaces of the running `pid` (started by spawn), as `docker exec` or a HEALTHCHECK does. */
  exec(pid: number, argv: string[], opts: RunOptions): ChildProcess {
    return spawn('nsenter', ['--target', String(pid), '--mount', '--net', '/bin/sh', '-c', `exec ${this.chrooted(argv, opts)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

/** Waits for a child to end; its exit code and output. */
export function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
