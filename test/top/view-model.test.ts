/**
 * `logship top`'s view of two scrapes of an agent's /metrics, with the
 * series names the agent serves; a series the agent lacks shows "–".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSamples } from '../../src/top/prometheus-text.ts';
import { renderLine, renderTables, UNKNOWN } from '../../src/top/render.ts';
import { snapshotOf } from '../../src/top/snapshot.ts';
import { topView } from '../../src/top/view-model.ts';

function scrape(lines: { web: number; api: number; sentWeb: number }): string {
  return `# HELP logship_lines_read_total Complete lines read from log files.
# TYPE logship_lines_read_total counter
logship_lines_read_total{input="web"} ${lines.web}
logship_lines_read_total{input="api"} ${lines.api}
# TYPE logship_records_sent_total counter
logship_records_sent_total{input="web"} ${lines.sentWeb}
logship_records_sent_total{input="api"} ${lines.api}
# TYPE logship_parse_errors_total counter
logship_parse_errors_total{input="web"} 3
logship_parse_errors_total{input="api"} 0
# TYPE logship_dead_letter_records_total counter
logship_dead_letter_records_total{input="web",reason="parse_error"} 3
logship_dead_letter_records_total{input="web",reason="too_large"} 1
# TYPE logship_file_lag_bytes gauge
logship_file_lag_bytes{path="/var/log/nginx/access.log",input="web"} 2048
logship_file_lag_bytes{path="/var/log/nginx/other.log",input="web"} 1024
logship_file_lag_bytes{path="/srv/api/a \\"quoted\\" name.log",input="api"} 0
# TYPE logship_file_lag_seconds gauge
logship_file_lag_seconds{path="/var/log/nginx/access.log",input="web"} 12.5
logship_file_lag_seconds{path="/var/log/nginx/other.log",input="web"} 3
logship_file_lag_seconds{path="/srv/api/a \\"quoted\\" name.log",input="api"} 0
# TYPE logship_spool_bytes gauge
logship_spool_bytes 1572864
logship_spool_entries 4
logship_spool_oldest_age_seconds 90
logship_in_flight_batches 2
# TYPE logship_output_up gauge
logship_output_up{output="kafka"} 0
# TYPE logship_send_duration_seconds histogram
logship_send_duration_seconds_bucket{le="+Inf"} 7
logship_send_duration_seconds_sum 0.25
`;
}

test('rates from two scrapes, totals, lag per input and per file, spool and output', () => {
  const first = snapshotOf(parseSamples(scrape({ web: 1000, api: 10, sentWeb: 990 })), 1_000_000);
  const second = snapshotOf(parseSamples(scrape({ web: 1500, api: 10, sentWeb: 1390 })), 1_002_000);
  const view = topView(second, first);
  assert.deepEqual(view.inputs, [
    { input: 'api', linesPerSecond: 0, ackedPerSecond: 0, parseErrors: 0, deadLetters: undefined, lagBytes: 0, lagSeconds: 0, files: 1 },
    { input: 'web', linesPerSecond: 250, ackedPerSecond: 200, parseErrors: 3, deadLetters: 4, lagBytes: 3072, lagSeconds: 12.5, files: 2 },
  ]);
  assert.deepEqual(view.files.map((f) => [f.path, f.lagBytes]), [
    ['/var/log/nginx/access.log', 2048],
    ['/var/log/nginx/other.log', 1024],
    ['/srv/api/a "quoted" name.log', 0],
  ]);
  assert.deepEqual([view.spoolBytes, view.spoolEntries, view.spoolOldestAgeSeconds, view.inFlightBatches], [1572864, 4, 90, 2]);
  assert.deepEqual(view.outputs, [{ output: 'kafka', up: false }]);

  const line = renderLine(view, new Date(1_002_000));
  console.log(line);
  assert.match(line, /web: in 250\/s acked 200\/s parse_errors 3 dead_letters 4 lag 3KiB 13s files 2/);
  assert.match(line, /api: in 0\/s acked 0\/s parse_errors 0 dead_letters – lag 0B 0s files 1/);
  assert.match(line, /spool 1\.5MiB in 4 entries, oldest 2m; in-flight batches 2; kafka DOWN/);

  const screen = renderTables(view, 'logship top', { columns: 120, rows: 40 });
  console.log(screen);
  assert.match(screen, /│ web +│ +250\/s │ +200\/s │ +3 │ +4 │ +3KiB │ +13s │ +2 │/);
  assert.match(screen, /│ \/var\/log\/nginx\/access\.log +│ web +│ +2KiB │ +13s │/);
});

test('the first scrape has no rates; series the agent does not serve show "–"', () => {
  // An agent of before the input label and the lag in seconds, spool and output series.
  const old = `logship_lines_read_total 500
logship_records_sent_total 480
logship_file_lag_bytes{path="/var/log/a.log",input="web"} 10
logship_in_flight_batches 0
`;
  const first = topView(snapshotOf(parseSamples(old), 0), undefined);
  assert.equal(first.inputs.length, 1);
  const [web] = first.inputs;
  assert.deepEqual(web, { input: 'web', linesPerSecond: undefined, ackedPerSecond: undefined, parseErrors: undefined, deadLetters: undefined, lagBytes: 10, lagSeconds: undefined, files: 1 });
  const line = renderLine(first, new Date(0));
  console.log(line);
  assert.match(line, new RegExp(`web: in ${UNKNOWN} acked ${UNKNOWN} parse_errors ${UNKNOWN} dead_letters ${UNKNOWN} lag 10B ${UNKNOWN} files 1`));
  assert.match(line, new RegExp(`spool ${UNKNOWN} in ${UNKNOWN} entries, oldest ${UNKNOWN}; in-flight batches 0; output ${UNKNOWN}`));
});

test('a counter that went down (the agent restarted) counts from zero', () => {
  const before = snapshotOf(parseSamples('logship_lines_read_total{input="web"} 9000\n'), 0);
  const after = snapshotOf(parseSamples('logship_lines_read_total{input="web"} 300\n'), 3000);
  assert.equal(topView(after, before).inputs[0]?.linesPerSecond, 100);
});
