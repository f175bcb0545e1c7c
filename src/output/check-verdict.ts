/** One line of `logship check` (src/cli/check-command.ts). */
export interface Verdict {
  ok: boolean;
  item: string;
  detail: string;
  /** A problem `run` refuses to start with: a retry will not fix it. */
  fix?: boolean;
}

/** How long a check waits for a server: it answers in seconds, whatever the run timeouts. */
export const CHECK_TIMEOUT_MS = 5000;
