/**
 * Runs the CLI as an operator would and collects what it says: the sources
 * (src/cli/main.ts), which a checkout's bin/logship.js runs unless a dist/
 * was built (and may be stale); `options.file` runs a file by its shebang,
 * e.g. BIN itself.
 */
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from '../support/run-process.ts';

export const BIN = fileURLToPath(new URL('../../bin/logship.js', import.meta.url));
const SOURCES = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export type CliResult = ProcessResult;

/** `node src/cli/main.ts ...args` with this test's Node (or `options.file`, run by its shebang). */
export function logship(args: string[], options: { env?: NodeJS.ProcessEnv; file?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const [file, argv] = options.file ? [options.file, args] : [process.execPath, [SOURCES, ...args]];
  return runProcess(file, argv, { env: options.env, timeoutMs: options.timeoutMs ?? 60_000 });
}
