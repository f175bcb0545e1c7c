/**
 * What a single executable for an architecture is made of besides the
 * bundle: the official `node` binary of the Node version that builds it (a
 * SEA blob runs only in the Node version that made it) and @node-rs/crc32's
 * addon. Both come from the npm registry (packages node-linux-<arch> and
 * @node-rs/crc32-linux-<arch>-gnu), unpacked once into $LOGSHIP_CACHE; for
 * the machine's own architecture that is where scripts/lib.sh's ensure_node
 * put Node, and the addon is in node_modules. Always the official binary, not whichever Node runs the
 * build (a distribution's may link libnode or OpenSSL as shared libraries).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../../test/support/repo-path.ts';

export type Arch = 'x64' | 'arm64';

/** Debian's name of an architecture. */
export const DEB_ARCH: Record<Arch, string> = { x64: 'amd64', arm64: 'arm64' };

const cacheDir = (): string => process.env.LOGSHIP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logship');

/** `npm pack`s `spec` and unpacks it into `dir` once; returns `dir`. */
function unpackedPackage(spec: string, dir: string): string {
  if (existsSync(dir)) return dir;
  const tmp = mkdtempSync(join(tmpdir(), 'logship-pack-'));
  try {
    const tgz = execFileSync('npm', ['pack', '--silent', spec], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop()!;
    mkdirSync(`${dir}.partial`, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', `${dir}.partial`, '--strip-components=1']);
    renameSync(`${dir}.partial`, dir);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The official node binary of this Node version for `arch`. */
export function nodeBinary(arch: Arch): string {
  const version = process.versions.node;
  // For the machine's own architecture, ensure_node's directory (scripts/lib.sh): the same package, unpacked.
  const dir = join(cacheDir(), arch === process.arch ? `node-v${version}` : `node-v${version}-linux-${arch}`);
  return join(unpackedPackage(`node-linux-${arch}@${version}`, dir), 'bin', 'node');
}

/** @node-rs/crc32's native addon (glibc build) for `arch`, of the version in package-lock.json. */
export function crc32Addon(arch: Arch): string {
  const name = `@node-rs/crc32-linux-${arch}-gnu`;
  const file = `crc32.linux-${arch}-gnu.node`;
  const installed = repoPath(`node_modules/${name}/${file}`);
  if (existsSync(installed)) return installed;
  const { version } = JSON.parse(readFileSync(repoPath('node_modules/@node-rs/crc32/package.json'), 'utf8')) as { version: string };
  return join(unpackedPackage(`${name}@${version}`, join(cacheDir(), `crc32-linux-${arch}-gnu-${version}`)), file);
}
