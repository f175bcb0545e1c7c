/**
 * What an operator touches: metrics, health, and reloading the
 * configuration with SIGHUP.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('/metrics counts what was read and sent per input, dead letters apart; /healthz and /readyz answer', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-metrics');
  const deadTopic = await createTopic('e2e-metrics-dead');
  const log = join(dir, 'access.log');
  const other = join(dir, 'other.log');
  writeFileSync(log, combinedLines(0, 100) + 'not a line of the format\n');
  writeFileSync(other, combinedLines(100, 2) + 'not a line either\n');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [
      { name: 'web', paths: [log], format: 'combined', on_error: 'raw', poll_interval_ms: 50 },
      { name: 'api', paths: [other], format: 'combined', on_error: 'dead_letter', poll_interval_ms: 50 },
    ],
    kafka: { brokers: testBrokers(), topic, dead_letter_topic: deadTopic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('records in Kafka', async () => (await topicSize(topic)) === 103 && (await topicSize(deadTopic)) === 1);
  const metrics = await waitFor('metrics caught up', async () => {
    const { body } = await agent.http('/metrics');
    return metric(body, 'logship_records_sent_total{input="web"}') === 101 && metric(body, 'logship_records_sent_total{input="api"}') === 2 && metric(body, 'logship_file_lag_bytes') === 0
      ? body
      : undefined;
  });
  t.diagnostic(metrics.split('\n').filter((l) => /^logship_(lines_read|records_sent|dead_letter|parse_errors|file_lag|output_up|build_info)/.test(l)).join('\n'));
  assert.equal(metric(metrics, 'logship_lines_read_total{input="web"}'), 101);
  assert.equal(metric(metrics, 'logship_lines_read_total{input="api"}'), 3);
  assert.equal(metric(metrics, 'logship_parse_errors_total{input="web"}'), 1);
  assert.equal(metric(metrics, 'logship_parse_errors_total{input="api"}'), 1);
  assert.equal(metric(metrics, 'logship_records_parsed_total{input="web"}'), 100);
  assert.equal(metric(metrics, 'logship_dead_letter_records_total{input="api",reason="parse_error"}'), 1, 'the dead letter, counted apart');
  assert.equal(metric(metrics, 'logship_dead_letter_records_total{input="web",reason="parse_error"}'), 0, 'on_error: raw ships it to its own topic');
  assert.ok(metric(metrics, 'logship_read_bytes_total{input="web"}') > 10_000);
  assert.equal(metric(metrics, 'logship_open_files'), 2);
  assert.match(metrics, /logship_send_duration_seconds_count\{output="kafka"\} \d+/);
  assert.match(metrics, new RegExp(`logship_file_lag_bytes\\{path="${log.replace(/[/.]/g, '\\$&')}",input="web"\\} 0`));
  assert.match(metrics, new RegExp(`logship_file_lag_seconds\\{path="${log.replace(/[/.]/g, '\\$&')}",input="web"\\} 0`));
  assert.equal(metric(metrics, 'logship_output_up{output="kafka"}'), 1);
  assert.equal(metric(metrics, 'logship_errors_total{kind="auth"}'), 0, 'every kind has a series from the start');
  assert.match(metrics, /^logship_build_info\{version="[^"]+",node_version="[^"]+"\} 1$/m);
  assert.ok(metric(metrics, 'process_resident_memory_bytes') > 0 && metric(metrics, 'process_start_time_seconds') > 0);
  assert.doesNotMatch(metrics, /logship_process_|^nodejs_/m);
  assert.deepEqual(await agent.http('/healthz'), { status: 200, body: 'ok\n' });
  const ready = await agent.http('/readyz');
  assert.equal(ready.status, 200);
  assert.match(ready.body, /^ready: Kafka takes batches\n\(ready = .*\)\n$/);
  const stopped = agent.stop();
  assert.equal((await stopped).code, 0);
  const counters = (await agent.waitForLog('stopped')).counters as Record<string, number>;
  assert.equal(counters.lines_read, 104, 'the stopped line sums the inputs');
});

test('SIGHUP adds an input without a restart; a bad configuration is refused and the running one kept', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-reload');
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, combinedLines(0, 10));
  writeFileSync(b, combinedLines(100, 5));
  const base = { kafka: { brokers: testBrokers(), topic }, batch: { linger_ms: 20 }, state_dir: join(dir, 'state') };
  const input = (name: string, path: string) => ({ name, paths: [path], format: 'combined', poll_interval_ms: 50 });
  const config = writeConfig(dir, { ...base, inputs: [input('a', a)] });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('input a shipped', async () => (await topicSize(topic)) === 10);

  writeConfig(dir, { ...base, inputs: [input('a', a), input('b', b)] });
  agent.child.kill('SIGHUP');
  const reloaded = await agent.waitForLog('configuration reloaded');
  assert.deepEqual([reloaded.started, reloaded.stopped], [['b'], []]);
  await waitFor('input b shipped', async () => (await topicSize(topic)) === 15);

  writeFileSync(config, 'inputs: [ {paths: [], format: combined} ]\nkafka: {brokers: [x:1], topic: t}\n');
  agent.child.kill('SIGHUP');
  const refused = await agent.waitForLog('configuration not reloaded');
  assert.match(refused.msg, /inputs\[0\]\.paths/);
  writeFileSync(a, combinedLines(10, 3), { flag: 'a' });
  await waitFor('input a still shipping', async () => (await topicSize(topic)) === 18);
  assert.equal((await agent.stop()).code, 0);
});

test('SIGHUP applies log_level and kafka.topic live, and names at warn level what needs a restart', async (t) => {
  const dir = tempDir(t);
  const first = await createTopic('e2e-reload-first');
  const second = await createTopic('e2e-reload-second');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'a.log'), combinedLines(0, 5));
  const base = { inputs: [{ name: 'web', paths: [join(logs, '*.log')], format: 'combined', poll_interval_ms: 50, scan_interval_ms: 100 }], batch: { linger_ms: 20 }, state_dir: join(dir, 'state') };
  const config = writeConfig(dir, { ...base, kafka: { brokers: testBrokers(), topic: first } });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('shipped to the first topic', async () => (await topicSize(first)) === 5);

  writeConfig(dir, { ...base, kafka: { brokers: testBrokers(), topic: second, client_id: 'renamed' }, spool: { max_bytes: '2GiB' }, log_level: 'warn', shutdown_timeout_ms: 5000 });
  agent.child.kill('SIGHUP');
  const reloaded = await agent.waitForLog('configuration reloaded');
  assert.equal(reloaded.level, 40, 'warn: some settings need a restart');
  assert.deepEqual(reloaded.applied, ['kafka.topic', 'log_level', 'shutdown_timeout_ms']);
  assert.deepEqual(reloaded.restart_needed_for, ['kafka.client_id', 'spool.max_bytes']);
  assert.match(reloaded.msg, /until a restart: kafka\.client_id, spool\.max_bytes$/);

  // The new topic takes the lines read from now on; at warn level the file found is not logged.
  writeFileSync(join(logs, 'a.log'), combinedLines(5, 3), { flag: 'a' });
  writeFileSync(join(logs, 'b.log'), combinedLines(8, 2));
  await waitFor('shipped to the new topic', async () => (await topicSize(second)) === 5);
  assert.equal(await topicSize(first), 5, 'nothing more in the old topic');
  assert.ok(!agent.logs.some((l) => l.msg === 'following file' && String(l.path).endsWith('b.log')), 'an info line logged at warn level');

  writeConfig(dir, { ...base, kafka: { brokers: testBrokers(), topic: second, client_id: 'renamed' }, spool: { max_bytes: '2GiB' }, log_level: 'info', shutdown_timeout_ms: 5000 });
  agent.child.kill('SIGHUP');
  const back = await agent.waitForLog('configuration reloaded', (l) => l !== reloaded);
  // Compared with what runs: those two still wait for a restart, and are said again.
  assert.deepEqual([back.applied, back.restart_needed_for], [['log_level'], ['kafka.client_id', 'spool.max_bytes']]);
  writeFileSync(join(logs, 'c.log'), combinedLines(10, 1));
  await agent.waitForLog('following file', (l) => String(l.path).endsWith('c.log'));
  assert.equal((await agent.stop()).code, 0);
});

test('check against the real broker: ready when the topics exist, names the one that does not', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-check');
  writeFileSync(join(dir, 'access.log'), combinedLines(0, 1));
  const base = { inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }], state_dir: join(dir, 'state') };
  const good = new AgentProcess(['check', '--config', writeConfig(dir, { ...base, kafka: { brokers: testBrokers(), topic, dead_letter_topic: topic } })]);
  assert.equal((await good.exited).code, 0, JSON.stringify(good.logs));
  assert.ok(good.logs.some((l) => l.msg === 'verdict: ready to run'));
  const missing = new AgentProcess(['check', '--config', writeConfig(dir, { ...base, kafka: { brokers: testBrokers(), topic, dead_letter_topic: 'no-such-topic-here' } })]);
  assert.equal((await missing.exited).code, 1);
  assert.ok(missing.logs.some((l) => l.msg.startsWith('✘ topic no-such-topic-here: does not exist')));
});

test('a reload that changes an input in the middle of a backfill ships every line once', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-reload-backfill');
  const log = join(dir, 'access.log');
  const LINES = 150_000;
  for (let i = 0; i < LINES; i += 10_000) writeFileSync(log, combinedLines(i, 10_000), { flag: 'a' });
  const base = { kafka: { brokers: testBrokers(), topic }, state_dir: join(dir, 'state') };
  const config = writeConfig(dir, { ...base, inputs: [{ name: 'nginx', paths: [log], format: 'combined' }] });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('the backfill under way', async () => {
    const read = metric((await agent.http('/metrics')).body, 'logship_lines_read_total');
    return read > 1_000 && read < LINES / 2;
  }, 30_000, 10);
  // The input changes (a setting of its own), so its tailer is replaced while batches of it are in flight.
  writeConfig(dir, { ...base, inputs: [{ name: 'nginx', paths: [log], format: 'combined', poll_interval_ms: 100 }] });
  agent.child.kill('SIGHUP');
  const reloaded = await agent.waitForLog('configuration reloaded');
  assert.deepEqual([reloaded.started, reloaded.stopped], [['nginx'], ['nginx']]);
  await waitFor('every line in Kafka', async () => (await topicSize(topic)) >= LINES, 60_000, 100);
  assert.equal((await agent.stop()).code, 0);
  const ids = (await readTopic(topic)).map((m) => m.headers['logship-id']);
  assert.equal(new Set(ids).size, LINES, 'every line');
  assert.equal(ids.length, LINES, 'none twice');
});
