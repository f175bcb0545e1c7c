/**
 * A real small filesystem for disk-full tests: a tmpfs of `size` bytes, or,
 * where tmpfs cannot be mounted, a loop-mounted ext4 image. Needs root (CI
 * runs as root); callers skip when it returns undefined.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface After {
  after(fn: () => unknown): void;
}

/** A directory on a filesystem of about `size` bytes, unmounted and removed by `t.after`; undefined when mounting is not possible here. */
export function smallFilesystem(t: After, size: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'logship-small-fs-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  t.after(() => {
    if (mounted) execFileSync('umount', ['-l', mnt]);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch {
    try {
      const image = join(dir, 'fs.img');
      execFileSync('truncate', ['-s', String(Math.max(size, 2 << 20)), image]);
      execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
      execFileSync('mount', ['-o', 'loop', image, mnt], { stdio: 'pipe' });
      mounted = true;
    } catch {
      return undefined;
    }
  }
  return mnt;
}
