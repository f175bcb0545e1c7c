/** The Grafana dashboard queries only metrics the agent exports. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createMetrics } from '../../src/observe/metrics.ts';
import { Stats } from '../../src/observe/stats.ts';
import { repoPath } from '../support/repo-path.ts';

test('every metric the Grafana dashboard queries is one the agent exports', async () => {
  const dashboard = readFileSync(repoPath('grafana/logship-dashboard.json'), 'utf8');
  const exprs = [...dashboard.matchAll(/"(?:expr|query)": "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  // Metric names in the queries: the agent's own and the standard process ones.
  const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b(?:logship|process|nodejs)_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))));
  assert.ok(used.has('process_cpu_seconds_total') && used.has('logship_records_sent_total'), `queries found: ${[...used].join(', ')}`);
  const registry = createMetrics({ stats: new Stats(), files: () => [], openFiles: () => 0, spool: () => undefined, memoryBound: () => 0, outputUp: () => true, output: 'kafka' });
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  assert.deepEqual([...used].filter((name) => !exported.has(name)), []);
});
