/**
 * What an operator touches: metrics, health, and reloading the
 * configuration with SIGHUP.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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

test('/metrics counts what was read and sent, /healthz and /readyz answer', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-metrics');
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 100) + 'not a line of the format\n');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', on_error: 'raw', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('records in Kafka', async () => (await topicSize(topic)) === 101);
  const metrics = await waitFor('metrics caught up', async () => {
    const { body } = await agent.http('/metrics');
    return metric(body, 'logship_records_sent_total') === 101 && metric(body, 'logship_file_lag_bytes') === 0 ? body : undefined;
  });
  assert.equal(metric(metrics, 'logship_lines_read_total'), 101);
  assert.equal(metric(metrics, 'logship_parse_errors_total'), 1);
  assert.equal(metric(metrics, 'logship_records_parsed_total'), 100);
  assert.ok(metric(metrics, 'logship_read_bytes_total') > 10_000);
  assert.equal(metric(metrics, 'logship_open_files'), 1);
  assert.match(metrics, /logship_send_duration_seconds_count \d+/);
  assert.match(metrics, new RegExp(`logship_file_lag_bytes\\{path="${log.replace(/[/.]/g, '\\$&')}",input="input-0"\\} 0`));
  assert.deepEqual(await agent.http('/healthz'), { status: 200, body: 'ok\n' });
  assert.deepEqual(await agent.http('/readyz'), { status: 200, body: 'ready\n' });
  assert.equal((await agent.stop()).code, 0);
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
