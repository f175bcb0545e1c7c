/**
 * The Prometheus registry over the agent's state. Names follow Prometheus'
 * conventions: base units, `_total` on counters only. Label values are
 * bounded: `input` by the inputs configured (those removed by a reload
 * keep their series until the process ends), `path` by the files followed
 * (at most max_open_files per input open, and the series goes when the
 * file is released), `reason` and `kind` are closed sets.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { packageVersion } from '../cli/version-command.ts';
import type { SpoolStats } from '../spool/index.ts';
import type { FileState } from '../tail/types.ts';
import { registerRuntimeMetrics } from './runtime-metrics.ts';
import { AGENT_COUNTERS, DEAD_LETTER_REASONS, type AgentCounterName, type InputCounterName, type Stats } from './stats.ts';

/** What the metrics read at scrape time besides the counters. */
export interface MetricsSources {
  stats: Stats;
  /** Per followed file: where it is, its size, checkpoint and since when what is past it waits. */
  files(): Iterable<FileState>;
  openFiles(): number;
  spool(): Pick<SpoolStats, 'entries' | 'bytes' | 'oldestAgeMs' | 'full' | 'droppedOldest' | 'droppedRecords' | 'corruptSkipped'> | undefined;
  /** The most RSS the settings allow with the files followed now (memory-bound.ts). */
  memoryBound(): number;
  /** The last produce request (or the first contact) to Kafka succeeded; false until one did. */
  outputUp(): boolean;
  /** The configured output's type, the `output` label. */
  output: string;
}

/** Per-input counter → metric name and help. */
const INPUT_COUNTER_METRICS: Record<InputCounterName, [string, string]> = {
  lines_read: ['logship_lines_read_total', 'Complete lines read from log files.'],
  bytes_read: ['logship_read_bytes_total', 'Bytes of complete lines read from log files.'],
  records_parsed: ['logship_records_parsed_total', 'Lines parsed into records.'],
  parse_errors: ['logship_parse_errors_total', 'Lines that did not match their log format.'],
  lines_dropped: ['logship_lines_dropped_total', 'Bad lines dropped (on_error: drop).'],
  records_filtered: ['logship_records_filtered_total', "Records dropped by an input's transforms.filter (their offsets still advance the checkpoint)."],
  records_sampled_out: ['logship_records_sampled_out_total', "Records not kept by an input's transforms.sample (their offsets still advance the checkpoint)."],
  lines_truncated: ['logship_lines_truncated_total', 'Lines cut to max_line_bytes.'],
  lines_too_long_skipped: ['logship_lines_skipped_too_long_total', 'Lines over max_line_bytes skipped (on_long_line: skip).'],
  records_sent: ['logship_records_sent_total', 'Records acknowledged by Kafka on their own topic; dead letters (logship_dead_letter_records_total) and spooled records replayed (logship_replayed_records_total) are not in it.'],
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

/** The agent's counter → metric name and help. */
const AGENT_COUNTER_METRICS: Record<AgentCounterName, [string, string]> = {
  batches_sent: ['logship_batches_sent_total', 'Batches acknowledged by the output.'],
  batch_send_errors: ['logship_send_failures_total', 'Produce requests that failed (and were retried or spooled).'],
  batches_spooled: ['logship_spooled_batches_total', 'Batches written to the on-disk spool.'],
  records_spooled: ['logship_spooled_records_total', 'Records written to the on-disk spool.'],
  batches_replayed: ['logship_replayed_batches_total', 'Spooled batches acknowledged by the output.'],
  records_replayed: ['logship_replayed_records_total', 'Records of spooled batches acknowledged by the output (the spool does not keep their input).'],
  records_unroutable: ['logship_unroutable_records_total', 'Records the output could not route (RabbitMQ returned them; a Redis key that is not a stream), sent to its dead-letter destination with the reason.'],
};

/** The agent's counters about the output carry its name (`output`: kafka, rabbitmq, redis), as output_up and send_duration do. */
const OUTPUT_COUNTERS: ReadonlySet<AgentCounterName> = new Set(['batches_sent', 'batch_send_errors', 'batches_replayed', 'records_replayed', 'records_unroutable']);

/** A counter whose value is read at scrape time. */
function counter(registry: Registry, name: string, help: string, labelNames: string[], read: (c: Counter) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read(this);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: (g: Gauge) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read(this);
    },
  });
}

/**
 * Everything is read at scrape time (collect callbacks), so the hot path
 * only bumps plain counters; only the send duration is observed as it happens.
 */
export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  registerRuntimeMetrics(registry);
  const { stats } = sources;
  gauge(registry, 'logship_build_info', 'Always 1; the labels say which logship and which Node.js run.', ['version', 'node_version'], (g) =>
    g.set({ version: packageVersion(), node_version: process.versions.node }, 1),
  );
  for (const [name, [metric, help]] of Object.entries(INPUT_COUNTER_METRICS) as [InputCounterName, [string, string]][]) {
    counter(registry, metric, help, ['input'], (c) => {
      for (const [input, counters] of stats.inputs) c.inc({ input }, counters[name]);
    });
  }
  counter(
    registry,
    'logship_dead_letter_records_total',
    `Records sent to the dead-letter topic instead of their own, counted when routed there, by reason: ${DEAD_LETTER_REASONS.join(', ')}.`,
    ['input', 'reason'],
    (c) => {
      for (const [input, counters] of stats.inputs) for (const reason of DEAD_LETTER_REASONS) c.inc({ input, reason }, counters.dead_letters[reason]);
    },
  );
  for (const name of AGENT_COUNTERS) {
    const [metric, help] = AGENT_COUNTER_METRICS[name];
    if (OUTPUT_COUNTERS.has(name)) counter(registry, metric, help, ['output'], (c) => c.inc({ output: sources.output }, stats.agent[name]));
    else counter(registry, metric, help, [], (c) => c.inc(stats.agent[name]));
  }
  counter(registry, 'logship_errors_total', `Errors by kind: ${[...stats.errors.keys()].join(', ')}.`, ['kind'], (c) => {
    for (const [kind, count] of stats.errors) c.inc({ kind }, count);
  });
  counter(registry, 'logship_spool_dropped_batches_total', 'Spooled batches discarded by spool.when_full: drop_oldest (their records are lost).', [], (c) => c.inc(sources.spool()?.droppedOldest ?? 0));
  counter(registry, 'logship_spool_dropped_records_total', 'Records of those batches.', [], (c) => c.inc(sources.spool()?.droppedRecords ?? 0));
  counter(registry, 'logship_spool_corrupt_entries_total', 'Corrupt spool entries (or runs of corrupt bytes) skipped when the spool was opened or replayed; their records are lost.', [], (c) =>
    c.inc(sources.spool()?.corruptSkipped ?? 0),
  );
  gauge(registry, 'logship_in_flight_batches', 'Batches handed to the output and not yet acknowledged.', ['output'], (g) => g.set({ output: sources.output }, stats.inFlight));
  gauge(registry, 'logship_output_up', 'The output works: 1 when its last request (or its first connection) succeeded, 0 while it fails and until it first connects.', ['output'], (g) =>
    g.set({ output: sources.output }, sources.outputUp() ? 1 : 0),
  );
  gauge(registry, 'logship_memory_bound_bytes', 'The most resident memory these settings take with the files followed now: set a container limit above it (compare process_resident_memory_bytes).', [], (g) =>
    g.set(sources.memoryBound()),
  );
  gauge(registry, 'logship_open_files', 'File descriptors held for followed files.', [], (g) => g.set(sources.openFiles()));
  const files = (read: (file: FileState, now: number) => void) => {
    const now = Date.now();
    for (const file of sources.files()) read(file, now);
  };
  gauge(registry, 'logship_file_lag_bytes', 'Per followed file: its size minus its checkpoint (bytes not yet delivered).', ['path', 'input'], (g) =>
    files((f) => g.set({ path: f.path, input: f.input }, Math.max(0, f.size - f.committed))),
  );
  gauge(
    registry,
    'logship_file_lag_seconds',
    'Per followed file: how long its oldest byte not yet delivered has waited since the agent first saw it (1 s resolution), 0 when every byte seen is delivered.',
    ['path', 'input'],
    (g) => files((f, now) => g.set({ path: f.path, input: f.input }, f.waitingSince === undefined ? 0 : Math.max(0, now - f.waitingSince) / 1000)),
  );
  gauge(registry, 'logship_spool_entries', 'Batches waiting in the on-disk spool.', [], (g) => g.set(sources.spool()?.entries ?? 0));
  gauge(registry, 'logship_spool_bytes', 'Bytes of the on-disk spool.', [], (g) => g.set(sources.spool()?.bytes ?? 0));
  gauge(registry, 'logship_spool_full', 'The spool refuses batches for lack of room (1), by reason: max_bytes, disk_full, entry_too_large; reading pauses meanwhile.', ['reason'], (g) => {
    const full = sources.spool()?.full;
    if (full) g.set({ reason: full }, 1);
  });
  gauge(registry, 'logship_spool_oldest_age_seconds', 'Age of the oldest batch in the spool (0 when empty).', [], (g) => g.set((sources.spool()?.oldestAgeMs ?? 0) / 1000));
  const sendDuration = new Histogram({
    name: 'logship_send_duration_seconds',
    help: 'Time from sending a request (a batch) to the output to its acknowledgement.',
    labelNames: ['output'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const observed = sendDuration.labels({ output: sources.output });
  stats.onSendDuration = (seconds) => observed.observe(seconds);
  return registry;
}
