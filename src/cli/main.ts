#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { backfillCommand } from './backfill-command.ts';
import { checkCommand } from './check-command.ts';
import { checkpointsCommand } from './checkpoints-command.ts';
import { EXIT_CONFIG } from './exit-codes.ts';
import { healthCommand } from './health-command.ts';
import { parseCommand } from './parse-command.ts';
import { runCommand } from './run-command.ts';
import { spoolCommand } from './spool-command.ts';
import { tapCommand } from './tap-command.ts';
import { topCommand } from './top-command.ts';
import { packageVersion, versionCommand } from './version-command.ts';

// Not awaited at the top level: the single executable (scripts/package) runs this bundled as
// CommonJS. A rejection is then an unhandled one, which ends the process with the error as before.
void yargs(hideBin(process.argv))
  .scriptName('logship')
  .usage('$0 <command> [options]')
  .command(runCommand)
  .command(checkCommand)
  .command(parseCommand)
  .command(spoolCommand)
  .command(checkpointsCommand)
  .command(healthCommand)
  .command(backfillCommand)
  .command(topCommand)
  .command(tapCommand)
  .command(versionCommand)
  // `logship completion`: the bash completion script (the .deb installs it); it asks logship itself for candidates.
  .completion('completion', 'Print a bash completion script for logship')
  .demandCommand(1, 'give a command; see --help')
  .recommendCommands()
  .strict()
  .version(packageVersion())
  .help()
  .alias('help', 'h')
  .fail((message, err) => {
    // Only usage problems arrive here: commands report their own errors.
    process.stderr.write(`logship: ${message ?? err?.message}\nRun with --help for usage.\n`);
    process.exit(EXIT_CONFIG);
  })
  .parseAsync();
