/**
 * `npm run package`: the agent as one executable with Node inside, and a
 * .deb around it, in dist-pkg/:
 *
 *   dist-pkg/logship                      (dist-pkg/logship-arm64 for --arch arm64)
 *   dist-pkg/logship_<version>_amd64.deb  (_arm64.deb)
 *
 *   node scripts/package/main.ts [--arch x64|arm64] [--out DIR] [--xz-level 0-9]
 *
 * x64 is the machine's own; arm64 is built on it too (its node from the npm
 * registry, no code cache) but not run here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoPath } from '../../test/support/repo-path.ts';
import { buildDeb } from './deb.ts';
import type { Arch } from './node-runtime.ts';
import { buildSea } from './sea.ts';

export interface PackageOptions {
  arch: Arch;
  outDir: string;
  xzLevel: number;
}

export interface Packaged {
  sea: string;
  deb: string;
}

/** Builds the executable and the .deb into `outDir`. */
export async function buildPackage({ arch, outDir, xzLevel }: PackageOptions): Promise<Packaged> {
  const workDir = join(outDir, `.work-${arch}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(join(workDir, 'debian'), { recursive: true });
  const sea = join(outDir, arch === process.arch ? 'logship' : `logship-${arch}`);
  const bundled = await buildSea(arch, workDir, sea);
  // The completion script from the executable itself where it can run here; else from its bundle.
  const [command, ...args] = arch === process.arch ? [sea] : [process.execPath, join(workDir, 'logship.cjs')];
  const completion = execFileSync(command!, [...args, 'completion'], { encoding: 'utf8' });
  const deb = buildDeb({ arch, sea, bundled, workDir, outDir, xzLevel, completion });
  rmSync(workDir, { recursive: true, force: true });
  return { sea, deb };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: process.arch },
      out: { type: 'string', default: repoPath('dist-pkg') },
      'xz-level': { type: 'string', default: '6' },
    },
  });
  const arch = values.arch as Arch;
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`--arch ${arch}: x64 or arm64`);
  const started = process.hrtime.bigint();
  const { sea, deb } = await buildPackage({ arch, outDir: resolve(values.out), xzLevel: Number(values['xz-level']) });
  const mib = (file: string) => (statSync(file).size / 2 ** 20).toFixed(1);
  const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1);
  process.stdout.write(`${sea} (${mib(sea)} MiB)\n${deb} (${mib(deb)} MiB)\nbuilt in ${seconds} s\n`);
}
