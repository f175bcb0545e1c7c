/** The Prometheus text format as `logship top` reads it (src/top/prometheus-text.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSamples } from '../../src/top/prometheus-text.ts';

test('the text format: escapes in label values, special values, timestamps, a bad line named', () => {
  const samples = parseSamples(
    [
      '# HELP x a help line with \\n in it',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'metric_without_labels 12.47',
      'not_a_number NaN',
      'prom_client_nan Nan',
    ].join('\n'),
  );
  assert.deepEqual(samples.slice(0, 3), [
    { name: 'msdos_file_access_time_seconds', labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' }, value: 1.458255915e9 },
    { name: 'something_weird', labels: { problem: 'division by zero' }, value: Infinity },
    { name: 'metric_without_labels', labels: {}, value: 12.47 },
  ]);
  assert.ok(Number.isNaN(samples[3]?.value));
  assert.ok(Number.isNaN(samples[4]?.value), 'prom-client writes NaN as Nan');
  assert.throws(() => parseSamples('ok 1\nbroken{a="1"} x\n'), /metrics line 2: not a sample value: "x"/);
  assert.throws(() => parseSamples('broken{a="1} 2\n'), /metrics line 1: label a: no closing quote/);
});
