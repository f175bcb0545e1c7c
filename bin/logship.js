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
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url));
