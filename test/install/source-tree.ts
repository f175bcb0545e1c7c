/**
 * The repository as a fresh clone of this working tree would hold it: tracked
 * files and new ones, uncommitted edits included, nothing git ignores (no
 * node_modules, no dist/), copied into a folder.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoPath } from '../support/repo-path.ts';

export function copySourceTree(dir: string): number {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoPath('') }).toString().split('\0').filter(Boolean);
  let copied = 0;
  for (const file of files) {
    // A worktree's node_modules symlink is not matched by .gitignore's `node_modules/` (a directory pattern).
    if (file === 'node_modules') continue;
    const from = repoPath(file);
    const stat = lstatSync(from, { throwIfNoEntry: false });
    if (!stat || stat.isDirectory()) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file), { verbatimSymlinks: true });
    copied++;
  }
  return copied;
}
