#!/usr/bin/env node
/**
 * The `spool` command alone, the way src/cli/main.ts runs commands: lets the
 * CLI tests run before (or without) the command being registered there.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CONFIG } from '../../src/cli/exit-codes.ts';
import { spoolCommand } from '../../src/cli/spool-command.ts';

await yargs(hideBin(process.argv))
  .scriptName('logship')
  .command(spoolCommand)
  .demandCommand(1)
  .strict()
  .help()
  .fail((message, err) => {
    process.stderr.write(`logship: ${message ?? err?.message}\nRun with --help for usage.\n`);
    process.exit(EXIT_CONFIG);
  })
  .parseAsync();
