import type { CommandModule } from 'yargs';
// Imported, not read from beside this file: the single executable (scripts/package) has no package.json on disk.
import pkg from '../../package.json' with { type: 'json' };

export function packageVersion(): string {
  return pkg.version;
}

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the version of logship and of Node.js',
  handler: () => {
    process.stdout.write(`logship ${packageVersion()} (node ${process.versions.node})\n`);
  },
};
