/**
 * Producer settings and routing against the real broker, read back with kcat.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine, combinedLines } from '../support/combined-lines.ts';
import { createTopic, createTopicNamed, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);

/** Runs the agent on `content` until `expect` messages are in `topic`, then stops it cleanly. */
async function ship(t: { after(fn: () => void): void }, content: string, kafka: Record<string, unknown>, topic: string, expect: number, input: Record<string, unknown> = {}, batch: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, content);
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50, ...input }],
    kafka: { brokers: testBrokers(), topic, ...kafka },
    batch: { linger_ms: 50, ...batch },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor(`${expect} messages in ${topic}`, async () => (await topicSize(topic)) >= expect);
  assert.equal((await agent.stop()).code, 0, agent.stderr);
  return { log, agent };
}

for (const compression of ['gzip', 'snappy', 'lz4', 'zstd']) {
  test(`compression ${compression}: the broker accepts the batches and kcat reads them back`, async (t) => {
    const topic = await createTopic(`e2e-${compression}`);
    await ship(t, combinedLines(0, 300), { compression }, topic, 300);
    const records = (await readTopic(topic)).map((m) => JSON.parse(m.value) as { body_bytes_sent: number });
    assert.deepEqual(records.map((r) => r.body_bytes_sent), Array.from({ length: 300 }, (_, i) => 1000 + i));
  });
}

test('headers carry the record id, the host and the source path', async (t) => {
  const topic = await createTopic('e2e-headers');
  const { log } = await ship(t, combinedLines(0, 2), {}, topic, 2);
  const [first, second] = await readTopic(topic);
  assert.match(first!.headers['logship-id']!, /^\d+:\d+:[0-9a-f]{8}:0$/);
  assert.ok(second!.headers['logship-id']!.endsWith(`:${combinedLine(0).length + 1}`));
  assert.equal(first!.headers['logship-path'], log);
  assert.equal(first!.headers['logship-host'], (JSON.parse(first!.value) as { source: { host: string } }).source.host);
});

test('topic and key templates route each record by its fields', async (t) => {
  const prefix = (await createTopic('e2e-route')).slice(0, -1);
  const statuses = [200, 201, 304, 404, 500];
  // Created first: the test also holds where the brokers do not create topics.
  for (const status of statuses) await createTopicNamed(`${prefix}${status}`);
  await ship(t, combinedLines(0, 25), { topic: `${prefix}{{ status }}`, key: '{{ remote_addr }}' }, `${prefix}404`, 5);
  for (const status of statuses) await waitFor(`topic ${status}`, async () => (await topicSize(`${prefix}${status}`)) === 5);
  const { stdout } = await exec('kcat', ['-C', '-b', testBrokers().join(','), '-t', `${prefix}404`, '-o', 'beginning', '-e', '-q', '-f', '%k\n']);
  assert.deepEqual(stdout.trim().split('\n'), [3, 8, 13, 18, 23].map((i) => `10.0.0.${i}`));
});

test('a topic or key template with a field the format does not have is refused at start-up', async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, {
    inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }],
    kafka: { brokers: testBrokers(), topic: 'nginx-{{ upstream_status }}' },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  const { code } = await agent.exited;
  assert.equal(code, 2);
  assert.match(agent.stderr, /kafka\.topic: "\{\{ upstream_status \}\}" in "nginx-\{\{ upstream_status \}\}" is not a field of the log format/);
});

test('message_format ndjson: one message per batch, one record per line, each with its _id', async (t) => {
  const topic = await createTopic('e2e-ndjson');
  await ship(t, combinedLines(0, 50), { message_format: 'ndjson' }, topic, 1);
  const messages = await readTopic(topic);
  const lines = messages.flatMap((m) => m.value.split('\n')).map((l) => JSON.parse(l) as { body_bytes_sent: number; _id: string });
  assert.ok(messages.length < 50, `${messages.length} messages for 50 records`);
  assert.deepEqual(lines.map((r) => r.body_bytes_sent), Array.from({ length: 50 }, (_, i) => 1000 + i));
  assert.equal(new Set(lines.map((r) => r._id)).size, 50);
});

test('a record larger than max_message_bytes goes to the dead-letter topic with its reason', async (t) => {
  const topic = await createTopic('e2e-large');
  const dead = await createTopic('e2e-large-dead');
  const huge = combinedLine(1).replace('test-agent/1', 'x'.repeat(3000));
  await ship(t, combinedLine(0) + '\n' + huge + '\n' + combinedLine(2) + '\n', { max_message_bytes: 2000, dead_letter_topic: dead }, topic, 2);
  await waitFor('dead letter', async () => (await topicSize(dead)) === 1);
  const [letter] = (await readTopic(dead)).map((m) => JSON.parse(m.value) as { _error: string; _raw: string });
  assert.match(letter!._error, /record of \d+ bytes exceeds kafka\.max_message_bytes \(2000\)/);
  assert.ok(letter!._raw.startsWith(huge.slice(0, 100)));
  assert.equal((await readTopic(topic)).length, 2);
});

test("batch.max_bytes counts whole records: batches under the topic's max.message.bytes are accepted", async (t) => {
  // Before, only values were counted: with the three headers a batch came out
  // ~30% over the limit, the broker refused every one, and nothing arrived.
  const topic = await createTopic('e2e-batch-bytes', { 'max.message.bytes': '65536' });
  const lines = combinedLines(0, 2000);
  await ship(t, lines, { }, topic, 2000, {}, { max_records: 100_000, max_bytes: 64_000 });
  assert.equal(await topicSize(topic), 2000);
});

test('the idempotent producer (acks all) ships in order', async (t) => {
  const topic = await createTopic('e2e-idempotent');
  await ship(t, combinedLines(0, 500), { idempotent: true, acks: 'all' }, topic, 500);
  const bytes = (await readTopic(topic)).map((m) => (JSON.parse(m.value) as { body_bytes_sent: number }).body_bytes_sent);
  assert.deepEqual(bytes, Array.from({ length: 500 }, (_, i) => 1000 + i));
});
