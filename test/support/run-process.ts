import { execFile } from 'node:child_process';

export interface ProcessResult {
  /** The exit code; -1 when the process did not exit by itself (killed at the timeout, or not started). */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds it took. */
  ms: number;
}

/** Runs `file` with `args` to its end and collects what it says; a failing exit is a result, not a rejection. */
export function runProcess(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 0, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
