#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// The built CLI when installed; the TypeScript sources (run by Node 24's
// type stripping) in a checkout that has not been built.
//
// --max-semi-space-size=4 (MiB): the agent makes short-lived garbage at a
// high rate, and V8's default young generation on a large host grows to
// ~100 MiB more RSS for no speed (npm run bench: peak RSS 298 -> 184 MiB
// at 16 MiB). Since batches are held as bytes (EncodedRecords) almost
// nothing survives a scavenge: 8 MiB took ~30 MiB less again, 4 MiB ~10
// less than 8, each at no CPU cost (2 and 1 MiB cost CPU and promote more).
// --expose-gc: once the agent goes quiet after work it runs one
// memory-reducing collection (src/observe/idle-memory.ts). The systemd unit
// and the image start Node with the same flags; test/deploy checks they agree.
//
// Plain JavaScript that any Node with ES modules parses (no top-level await):
// an older Node is told so here, before anything that needs 24 is imported
// (it would otherwise die on a SyntaxError, e.g. node:zlib's zstd exports).
import { existsSync } from 'node:fs';

const NEEDED = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < NEEDED) {
  process.stderr.write(
    `logship: needs Node.js ${NEEDED} or newer; this is Node.js ${process.version} (${process.execPath}).\n` +
      `  Install Node.js ${NEEDED} (https://nodejs.org/en/download, or your distribution's nodejs ${NEEDED} package) and put it first on PATH,\n` +
      `  or install the logship .deb or single executable (npm run package), which carry their own Node: see the README.\n`,
  );
  // 2, as for any problem a retry will not fix (src/cli/exit-codes.ts): systemd does not restart on it.
  process.exitCode = 2;
} else {
  const built = new URL('../dist/cli/main.js', import.meta.url);
  import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href).catch((err) => {
    // As an uncaught error would: the stack on stderr, exit 1.
    process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
