import { Counter, Gauge, Registry } from 'prom-client';
import type { Stats } from '../observe/stats.ts';
import type { BackfillFigures } from './progress.ts';

/**
 * A backfill's own metrics (`--metrics-listen`), named apart from the
 * agent's so both can be scraped side by side. Read at scrape time.
 */
export function backfillMetrics(figures: BackfillFigures, stats: Stats): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'logship_backfill_files',
    help: 'History files by state: total (matched), shipped, skipped (done before, or followed by the agent), failed.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, figures.files);
      this.set({ state: 'shipped' }, figures.filesDone);
      this.set({ state: 'skipped' }, figures.filesSkipped);
      this.set({ state: 'failed' }, figures.fileErrors);
    },
  });
  new Gauge({ name: 'logship_backfill_bytes', help: 'On-disk bytes of the files to read (compressed size for compressed files).', registers: [registry], collect() { this.set(figures.bytesTotal); } });
  new Counter({ name: 'logship_backfill_read_bytes_total', help: 'On-disk bytes read so far.', registers: [registry], collect() { this.reset(); this.inc(figures.bytesDone); } });
  const counters: [string, string, () => number][] = [
    ['logship_backfill_lines_read_total', 'Lines read and handed to the parser.', () => figures.lines],
    ['logship_backfill_records_sent_total', 'Records acknowledged by Kafka.', () => stats.counters.records_sent],
    ['logship_backfill_parse_errors_total', 'Lines that did not match the input format.', () => stats.counters.parse_errors],
    ['logship_backfill_send_failures_total', 'Produce requests that failed (and were retried).', () => stats.counters.batch_send_errors],
  ];
  for (const [name, help, value] of counters) {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(value()); } });
  }
  new Gauge({ name: 'logship_backfill_in_flight_batches', help: 'Batches handed to Kafka and not yet acknowledged.', registers: [registry], collect() { this.set(stats.inFlight); } });
  return registry;
}
