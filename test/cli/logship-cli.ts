/**
 * Runs the CLI as an operator would and collects what it says: the sources
 * (src/cli/main.ts), which a checkout's bin/logship.js runs unless a dist/
 * was built (and may be stale); `options.file` runs a file by its shebang,
 * e.g. BIN itself.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/logship.js', import.meta.url));
const SOURCES = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds the command took. */
  ms: number;
}

/** `node src/cli/main.ts ...args` with this test's Node (or `options.file`, run by its shebang). */
export function logship(args: string[], options: { env?: NodeJS.ProcessEnv; file?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  const [file, argv] = options.file ? [options.file, args] : [process.execPath, [SOURCES, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
