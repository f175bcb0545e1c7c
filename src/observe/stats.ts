/**
 * The agent's counters. A plain object of numbers: cheap enough to bump on
 * the hot path; the metrics endpoint reads it.
 */
export const COUNTERS = [
  'lines_read',
  'bytes_read',
  'records_parsed',
  'parse_errors',
  'lines_dropped',
  'lines_truncated',
  'lines_too_long_skipped',
  'records_too_large',
  'records_sent',
  'batches_sent',
  'batch_send_errors',
  'batches_spooled',
  'records_spooled',
  'batches_replayed',
  'files_opened',
  'files_closed_idle',
  'rotations',
  'partial_lines_flushed',
  'container_malformed_lines',
  'container_long_messages',
  'open_errors',
  'read_errors',
  'truncations',
  'backpressure_pauses',
  'files_recovered',
  'lost_files',
  'lost_bytes',
  'compressed_files_skipped',
] as const;

export type CounterName = (typeof COUNTERS)[number];

export class Stats {
  readonly counters: Record<CounterName, number>;
  /** Errors by kind (auth, tls, unreachable, unknown_topic, ...). */
  readonly errors = new Map<string, number>();
  inFlight = 0;

  constructor() {
    this.counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<CounterName, number>;
  }

  inc(name: CounterName, by = 1): void {
    this.counters[name] += by;
  }

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  /** Set by the metrics module: receives the duration of each acknowledged produce request. */
  onSendDuration: ((seconds: number) => void) | undefined;
}
