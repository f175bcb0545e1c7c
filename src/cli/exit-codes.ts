/** Exit codes, documented in the README. */
export const EXIT_OK = 0;
/** The agent failed while running (e.g. Kafka unreachable at start-up). */
export const EXIT_FAILURE = 1;
/** Bad usage or configuration: fix the command or the file; retrying will not help. */
export const EXIT_CONFIG = 2;
