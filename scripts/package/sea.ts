/**
 * The agent as one file with Node inside: a Node single executable
 * application (https://nodejs.org/api/single-executable-applications.html).
 * The bundle (bundle.ts) and the crc32 addon go into a blob, which postject
 * injects into a copy of the official node binary.
 *
 * sea-config.json holds the settings: the agent's Node flags (execArgv; the
 * same as bin/logship.js's shebang, test/deploy/launch-flags.test.ts checks),
 * no experimental warning, and V8's code cache of the bundle (faster start;
 * only for the machine's own architecture, where the Node making the blob is
 * the one that runs it, and made with the same flags, or V8 rejects it).
 * NODE_OPTIONS may still add flags (execArgvExtension "env"): an operator's
 * way to profile or to raise a heap limit without a rebuild.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../test/support/repo-path.ts';
import { bundleAgent, npmPackage, type BundledPackage } from './bundle.ts';
import { crc32Addon, nodeBinary, type Arch } from './node-runtime.ts';

export const SEA_CONFIG_FILE = repoPath('scripts/package/sea-config.json');

/** The fuse postject flips to tell the node binary it carries a blob (Node's docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SeaSettings {
  execArgv: string[];
  useCodeCache: boolean;
  [setting: string]: unknown;
}

export function seaSettings(): SeaSettings {
  return JSON.parse(readFileSync(SEA_CONFIG_FILE, 'utf8')) as SeaSettings;
}

/** Builds the executable for `arch` at `output`, its intermediate files in `workDir`; returns the npm packages inside. */
export async function buildSea(arch: Arch, workDir: string, output: string): Promise<BundledPackage[]> {
  const bundle = join(workDir, 'logship.cjs');
  // In place of @node-rs/crc32's JS (sea-crc32.ts), its addon: its notice goes with the others.
  const bundled = [...(await bundleAgent(bundle)), npmPackage(repoPath('node_modules/@node-rs/crc32'))];

  const settings = seaSettings();
  const blob = join(workDir, `logship-${arch}.blob`);
  const config = join(workDir, `sea-config-${arch}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      ...settings,
      useCodeCache: settings.useCodeCache && arch === process.arch,
      main: bundle,
      output: blob,
      assets: { 'crc32.node': crc32Addon(arch) },
    }),
  );
  run(process.execPath, [...settings.execArgv, '--experimental-sea-config', config]);

  copyFileSync(nodeBinary(arch), output);
  chmodSync(output, 0o755);
  // Node's symbols and debug info: ~18 MB of the binary that nothing at run time reads.
  // The machine's strip reads its own architecture only; Debian's binutils-aarch64-linux-gnu strips arm64.
  const strip = arch === process.arch ? 'strip' : `${GNU_ARCH[arch]}-linux-gnu-strip`;
  if (arch === process.arch || found(strip)) execFileSync(strip, ['--strip-all', output]);
  else process.stderr.write(`${strip} not found (Debian package binutils-${GNU_ARCH[arch]}-linux-gnu): ${output} keeps Node's symbols\n`);
  // postject (LIEF) warns about node's many ELF notes, harmlessly.
  run(process.execPath, [repoPath('node_modules/postject/dist/cli.js'), output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  return bundled;
}

const GNU_ARCH: Record<Arch, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** Whether `command` is on PATH. */
export const found = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Runs a build step quietly; its output is shown when it fails. */
function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: err });
  }
}
