/**
 * The agent as one CommonJS script, which is what a Node 24 single
 * executable runs (it takes no ES modules): src/cli/main.ts and everything it
 * imports from node_modules, the kafkajs patch included (patch-package
 * applied it to node_modules on install, and esbuild bundles from there).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoPath } from '../../test/support/repo-path.ts';

/** How the bundled kafkajs gets @node-rs/crc32 in the executable: sea-crc32.ts (its addon is an asset). */
const SEA_CRC32 = repoPath('scripts/package/sea-crc32.ts');

/** An npm package whose code is in the bundle: its notices go into the .deb's copyright file. */
export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  dir: string;
}

/** Writes the bundle to `outfile`; returns the npm packages it holds. */
export async function bundleAgent(outfile: string): Promise<BundledPackage[]> {
  const root = repoPath('.');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [repoPath('src/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // yargs (ESM) locates itself with import.meta.url, which CommonJS output
    // lacks: the executable's own path stands in (yargs then reads no file
    // beside it; its messages fall back to the built-in English).
    define: { 'import.meta.url': '__logshipImportMetaUrl' },
    banner: { js: "const __logshipImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [
      {
        name: 'sea-crc32',
        setup(b) {
          b.onResolve({ filter: /^@node-rs\/crc32$/ }, () => ({ path: SEA_CRC32 }));
        },
      },
    ],
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (result.warnings.length > 0) throw new Error(`esbuild: ${result.warnings.length} warning(s) bundling the agent (above): each may be a failure at run time`);
  const dirs = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const at = input.lastIndexOf('node_modules/');
    if (at === -1) continue;
    const rest = input.slice(at + 'node_modules/'.length).split('/');
    dirs.add(join(root, input.slice(0, at), 'node_modules', ...rest.slice(0, rest[0]!.startsWith('@') ? 2 : 1)));
  }
  return [...dirs].sort().map(npmPackage);
}

/** The npm package installed in `dir`. */
export function npmPackage(dir: string): BundledPackage {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
  return { name: pkg.name, version: pkg.version, license: pkg.license ?? 'see its notice', dir };
}
