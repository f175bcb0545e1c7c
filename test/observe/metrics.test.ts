/** The exposition an operator's Prometheus gets: standard names, base units, _total on counters only, series from the start, bounded labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packageVersion } from '../../src/cli/version-command.ts';
import { createMetrics, type MetricsSources } from '../../src/observe/metrics.ts';
import { ERROR_KINDS, Stats } from '../../src/observe/stats.ts';

function sources(stats: Stats, more: Partial<MetricsSources> = {}): MetricsSources {
  return { stats, files: () => [], openFiles: () => 0, spool: () => undefined, memoryBound: () => 0, outputUp: () => true, output: 'kafka', ...more };
}

/** The value of the sample `series` (name with its labels as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('process metrics under their standard names, the runtime under logship_nodejs_*, no gauge named like a counter', async () => {
  const registry = createMetrics(sources(new Stats()));
  // At run time `type` is prom-client's name of the type ("counter", "gauge", ...), whatever its declaration says.
  const metrics = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) }));
  const names = metrics.map((m) => m.name);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'process_max_fds']) {
    assert.ok(names.includes(name), `${name} missing from ${names.join(', ')}`);
  }
  for (const name of ['logship_nodejs_eventloop_lag_seconds', 'logship_nodejs_heap_size_used_bytes', 'logship_nodejs_gc_duration_seconds']) assert.ok(names.includes(name), `${name} missing`);
  assert.deepEqual(names.filter((n) => n.startsWith('logship_process_') || /^(nodejs|logship_nodejs)_.*_total$/.test(n) || n.endsWith('version_info')), []);
  const gaugesNamedLikeCounters = metrics.filter((m) => m.type !== 'counter' && m.name.endsWith('_total')).map((m) => m.name);
  assert.deepEqual(gaugesNamedLikeCounters, []);
  const countersWithoutTotal = metrics.filter((m) => m.type === 'counter' && !m.name.endsWith('_total')).map((m) => m.name);
  assert.deepEqual(countersWithoutTotal, []);
});

test('build info, an errors_total series per kind from the start, output state', async () => {
  const stats = new Stats();
  let up = false;
  const text = await createMetrics(sources(stats, { outputUp: () => up })).metrics();
  assert.equal(sample(text, `logship_build_info{version="${packageVersion()}",node_version="${process.versions.node}"}`), 1);
  for (const kind of ERROR_KINDS) assert.equal(sample(text, `logship_errors_total{kind="${kind}"}`), 0, kind);
  assert.equal(sample(text, 'logship_output_up{output="kafka"}'), 0);
  up = true;
  stats.error('auth');
  const later = await createMetrics(sources(stats, { outputUp: () => up })).metrics();
  assert.equal(sample(later, 'logship_output_up{output="kafka"}'), 1);
  assert.equal(sample(later, 'logship_errors_total{kind="auth"}'), 1);
});

test('per-input counters and dead letters by reason; spool losses counted', async () => {
  const stats = new Stats();
  const web = stats.input('web');
  stats.input('api').lines_read = 3;
  web.lines_read = 10;
  web.parse_errors = 2;
  web.records_sent = 7;
  web.dead_letters.parse_error = 2;
  web.dead_letters.too_large = 1;
  const spool = { entries: 1, bytes: 100, oldestAgeMs: 2500, full: undefined, droppedOldest: 4, droppedRecords: 40, corruptSkipped: 1 };
  const text = await createMetrics(sources(stats, { spool: () => spool })).metrics();
  assert.equal(sample(text, 'logship_lines_read_total{input="web"}'), 10);
  assert.equal(sample(text, 'logship_lines_read_total{input="api"}'), 3);
  assert.equal(sample(text, 'logship_records_sent_total{input="web"}'), 7);
  assert.equal(sample(text, 'logship_parse_errors_total{input="api"}'), 0, 'a series from the start');
  assert.equal(sample(text, 'logship_dead_letter_records_total{input="web",reason="parse_error"}'), 2);
  assert.equal(sample(text, 'logship_dead_letter_records_total{input="web",reason="too_large"}'), 1);
  assert.equal(sample(text, 'logship_dead_letter_records_total{input="api",reason="too_large"}'), 0);
  assert.equal(sample(text, 'logship_spool_dropped_batches_total'), 4);
  assert.equal(sample(text, 'logship_spool_dropped_records_total'), 40);
  assert.equal(sample(text, 'logship_spool_corrupt_entries_total'), 1);
  assert.equal(sample(text, 'logship_spool_oldest_age_seconds'), 2.5);
  assert.equal(stats.counters.lines_read, 13, 'totals over inputs (the stopped log line)');
});

test('file lag in bytes and seconds: 0 when caught up, the wait of the oldest byte not delivered otherwise', async () => {
  const now = Date.now();
  const files = [
    { path: '/var/log/a.log', input: 'web', size: 500, committed: 500, waitingSince: undefined },
    { path: '/var/log/b.log', input: 'web', size: 900, committed: 100, waitingSince: now - 30_000 },
  ];
  const text = await createMetrics(sources(new Stats(), { files: () => files })).metrics();
  assert.equal(sample(text, 'logship_file_lag_bytes{path="/var/log/a.log",input="web"}'), 0);
  assert.equal(sample(text, 'logship_file_lag_seconds{path="/var/log/a.log",input="web"}'), 0);
  assert.equal(sample(text, 'logship_file_lag_bytes{path="/var/log/b.log",input="web"}'), 800);
  const seconds = sample(text, 'logship_file_lag_seconds{path="/var/log/b.log",input="web"}')!;
  assert.ok(seconds >= 30 && seconds < 35, `lag ${seconds} s`);
});
