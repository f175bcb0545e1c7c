/**
 * Exit codes, documented in the README. One rule for every command: 2 for
 * anything a retry will not fix (the systemd unit does not restart on it),
 * 1 for a failure that may pass by itself.
 */
export const EXIT_OK = 0;
/** Failed in a way a retry may fix: e.g. Kafka unreachable (check), the spool held by another agent, a full disk. */
export const EXIT_FAILURE = 1;
/**
 * Needs a change first: bad usage or configuration (format, templates,
 * SASL variable, TLS files), a state_dir that cannot be written, a
 * metrics.listen that cannot be bound, a Node older than 24 (bin/logship.js).
 */
export const EXIT_CONFIG = 2;
