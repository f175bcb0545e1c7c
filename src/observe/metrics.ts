import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterName, Stats } from './stats.ts';

/** What the metrics read at scrape time besides the counters. */
export interface MetricsSources {
  stats: Stats;
  /** Per followed file: where it is, its last seen size and its committed (checkpointed) offset. */
  files(): Iterable<{ path: string; input: string; size: number; committed: number }>;
  openFiles(): number;
  spool(): { entries: number; bytes: number; oldestAgeMs: number | undefined; full: string | undefined } | undefined;
  /** The most RSS the settings allow with the files followed now (memory-bound.ts). */
  memoryBound(): number;
}

/** Counter → metric name and help. Names follow Prometheus conventions: _total, base units. */
const COUNTER_METRICS: Record<CounterName, [string, string]> = {
  lines_read: ['logship_lines_read_total', 'Complete lines read from log files.'],
  bytes_read: ['logship_read_bytes_total', 'Bytes of complete lines read from log files.'],
  records_parsed: ['logship_records_parsed_total', 'Lines parsed into records.'],
  parse_errors: ['logship_parse_errors_total', 'Lines that did not match their log format.'],
  lines_dropped: ['logship_lines_dropped_total', 'Bad lines dropped (on_error: drop).'],
  lines_truncated: ['logship_lines_truncated_total', 'Lines cut to max_line_bytes.'],
  lines_too_long_skipped: ['logship_lines_skipped_too_long_total', 'Lines over max_line_bytes skipped (on_long_line: skip).'],
  records_too_large: ['logship_records_too_large_total', 'Records over kafka.max_message_bytes sent to the dead-letter topic.'],
  records_sent: ['logship_records_sent_total', 'Records acknowledged by Kafka.'],
  batches_sent: ['logship_batches_sent_total', 'Batches acknowledged by Kafka.'],
  batch_send_errors: ['logship_send_failures_total', 'Produce requests that failed (and were retried or spooled).'],
  batches_spooled: ['logship_spooled_batches_total', 'Batches written to the on-disk spool.'],
  records_spooled: ['logship_spooled_records_total', 'Records written to the on-disk spool.'],
  batches_replayed: ['logship_replayed_batches_total', 'Spooled batches sent to Kafka.'],
  files_opened: ['logship_files_opened_total', 'Files the agent started to follow.'],
  files_closed_idle: ['logship_files_closed_idle_total', 'Idle files closed for the max_open_files budget.'],
  rotations: ['logship_rotations_total', 'Files rotated away or deleted while followed.'],
  partial_lines_flushed: ['logship_partial_lines_flushed_total', 'Last lines without newline shipped after partial_line_flush_ms.'],
  container_malformed_lines: ['logship_container_malformed_lines_total', 'Lines that were not container runtime lines.'],
  container_long_messages: ['logship_container_long_messages_total', 'Joined container messages cut to max_line_bytes.'],
  open_errors: ['logship_open_errors_total', 'Files that could not be opened.'],
  read_errors: ['logship_read_errors_total', 'Failed reads of followed files.'],
  truncations: ['logship_truncations_total', 'Followed files found truncated (copytruncate).'],
  backpressure_pauses: ['logship_backpressure_pauses_total', 'Times reading paused because the pipeline was full.'],
  files_recovered: ['logship_files_recovered_total', 'Followed files found again by identity where rotation moved them while they were not followed (restart).'],
  lost_files: ['logship_lost_files_total', 'Followed files gone (deleted, or truncated with no copy) before they were read to their end.'],
  lost_bytes: ['logship_lost_bytes_total', 'Bytes of those files never read (at least: as last seen).'],
  compressed_files_skipped: ['logship_compressed_files_skipped_total', 'Matching files not read because they are compressed (gzip, zstd, ...).'],
};

/**
 * A Prometheus registry over the agent's state. Everything is read at
 * scrape time (collect callbacks), so the hot path only bumps plain
 * counters; only the send duration is observed as it happens.
 */
export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  // The event-loop delay histogram samples on a timer of this period: prom-client's default (10 ms) woke an idle
  // agent 100 times a second, two thirds of its idle CPU (0.12 -> 0.04 CPU-s per 30 s). Stalls of a second or more are still seen.
  collectDefaultMetrics({ register: registry, prefix: 'logship_process_', eventLoopMonitoringPrecision: 1000 });
  const { stats } = sources;
  for (const [counter, [name, help]] of Object.entries(COUNTER_METRICS) as [CounterName, [string, string]][]) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats.counters[counter]);
      },
    });
  }
  new Counter({
    name: 'logship_errors_total',
    help: 'Errors by kind: auth, tls, unreachable, unknown_topic, invalid_topic, too_large, timeout, other.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, count] of stats.errors) this.inc({ kind }, count);
    },
  });
  new Gauge({ name: 'logship_in_flight_batches', help: 'Batches handed to Kafka and not yet acknowledged.', registers: [registry], collect() { this.set(stats.inFlight); } });
  new Gauge({
    name: 'logship_memory_bound_bytes',
    help: 'The most resident memory these settings take with the files followed now: set a container limit above it (compare logship_process_resident_memory_bytes).',
    registers: [registry],
    collect() {
      this.set(sources.memoryBound());
    },
  });
  new Gauge({ name: 'logship_open_files', help: 'File descriptors held for followed files.', registers: [registry], collect() { this.set(sources.openFiles()); } });
  new Gauge({
    name: 'logship_file_lag_bytes',
    help: 'Per followed file: its size minus its checkpoint (bytes not yet delivered).',
    labelNames: ['path', 'input'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of sources.files()) this.set({ path: f.path, input: f.input }, Math.max(0, f.size - f.committed));
    },
  });
  new Gauge({ name: 'logship_spool_entries', help: 'Batches waiting in the on-disk spool.', registers: [registry], collect() { this.set(sources.spool()?.entries ?? 0); } });
  new Gauge({ name: 'logship_spool_bytes', help: 'Bytes of the on-disk spool.', registers: [registry], collect() { this.set(sources.spool()?.bytes ?? 0); } });
  new Gauge({
    name: 'logship_spool_full',
    help: 'The spool refuses batches for lack of room (1), by reason: max_bytes, disk_full, entry_too_large; reading pauses meanwhile.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const full = sources.spool()?.full;
      if (full) this.set({ reason: full }, 1);
    },
  });
  new Gauge({
    name: 'logship_spool_oldest_age_seconds',
    help: 'Age of the oldest batch in the spool (0 when empty).',
    registers: [registry],
    collect() {
      this.set((sources.spool()?.oldestAgeMs ?? 0) / 1000);
    },
  });
  const sendDuration = new Histogram({
    name: 'logship_send_duration_seconds',
    help: 'Time from sending a produce request to its acknowledgement.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  stats.onSendDuration = (seconds) => sendDuration.observe(seconds);
  return registry;
}
