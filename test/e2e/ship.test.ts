/**
 * End to end against a real Kafka: the CLI follows files, parses `combined`
 * lines and produces one message per line; kcat reads back what landed.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine, combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

function agentConfig(dir: string, topic: string, paths: string[], deadLetterTopic = `${topic}-dead`) {
  return writeConfig(dir, {
    inputs: [{ paths, format: 'combined', poll_interval_ms: 50, scan_interval_ms: 500 }],
    kafka: { brokers: testBrokers(), topic, dead_letter_topic: deadLetterTopic },
    batch: { max_records: 100, linger_ms: 50 },
    state_dir: join(dir, 'state'),
    log_level: 'debug',
  });
}

test('lines appended while the agent runs arrive in Kafka, exactly that many, with the right values', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-append');
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const agent = new AgentProcess(['run', '--config', agentConfig(dir, topic, [log])]);
  t.after(() => agent.stop('SIGKILL'));
  await agent.waitForLog('waiting for its first line');

  const total = 1000;
  for (let i = 0; i < total; i += 250) appendFileSync(log, combinedLines(i, 250));
  await waitFor(`${total} messages in ${topic}`, async () => (await topicSize(topic)) >= total);

  const { code } = await agent.stop('SIGTERM');
  assert.equal(code, 0, `agent exit code (stderr: ${agent.stderr})`);

  const messages = await readTopic(topic);
  assert.equal(messages.length, total);
  const records = messages.map((m) => JSON.parse(m.value) as Record<string, unknown>);
  // Lines of one file arrive in order.
  records.forEach((r, i) => assert.equal(r.remote_addr, `10.0.${(i >> 8) & 255}.${i & 255}`, `record ${i}`));
  const r7 = records[7]!;
  assert.equal(r7.status, 304);
  assert.equal(r7.body_bytes_sent, 1007);
  assert.equal(r7.request, 'GET /item/7?q=7 HTTP/1.1');
  assert.equal(r7.http_referer, null);
  assert.equal(r7.http_user_agent, 'test-agent/7');
  assert.equal(r7['@timestamp'], '2026-11-22T10:00:07.000Z');
  assert.deepEqual(r7.source, { host: (r7.source as { host: string }).host, path: log, input: 'input-0' });
  // Ids: file identity + byte offset of the line, all distinct.
  const ids = messages.map((m) => m.headers['logship-id']);
  assert.equal(new Set(ids).size, total);
  assert.match(ids[0]!, /^\d+:\d+:[0-9a-f]{8}:0$/);
});

test('a second file matched by the same glob is picked up while running', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-glob');
  writeFileSync(join(dir, 'a.log'), combinedLines(0, 10));
  const agent = new AgentProcess(['run', '--config', agentConfig(dir, topic, [join(dir, '*.log')])]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('the first file shipped', async () => (await topicSize(topic)) >= 10);

  writeFileSync(join(dir, 'b.log'), combinedLines(100, 5));
  appendFileSync(join(dir, 'b.log'), combinedLines(105, 5));
  await waitFor('the second file shipped', async () => (await topicSize(topic)) >= 20);
  assert.equal((await agent.stop()).code, 0);

  const records = (await readTopic(topic)).map((m) => JSON.parse(m.value) as { source: { path: string }; body_bytes_sent: number });
  assert.equal(records.length, 20);
  const fromB = records.filter((r) => r.source.path === join(dir, 'b.log')).map((r) => r.body_bytes_sent);
  assert.deepEqual(fromB, [1100, 1101, 1102, 1103, 1104, 1105, 1106, 1107, 1108, 1109]);
});

test('after a clean stop, a restart resumes at the checkpoint: nothing lost, nothing repeated', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-restart');
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 300));
  const config = agentConfig(dir, topic, [log]);

  const first = new AgentProcess(['run', '--config', config]);
  t.after(() => first.stop('SIGKILL'));
  await waitFor('first run shipped', async () => (await topicSize(topic)) >= 300);
  assert.equal((await first.stop()).code, 0);

  appendFileSync(log, combinedLines(300, 200));
  const second = new AgentProcess(['run', '--config', config]);
  t.after(() => second.stop('SIGKILL'));
  await second.waitForLog('following file', (l) => l.from === 'checkpoint');
  await waitFor('second run shipped', async () => (await topicSize(topic)) >= 500);
  assert.equal((await second.stop()).code, 0);

  const bytes = (await readTopic(topic)).map((m) => (JSON.parse(m.value) as { body_bytes_sent: number }).body_bytes_sent);
  assert.deepEqual(bytes, Array.from({ length: 500 }, (_, i) => 1000 + i));
});

test('lines that do not parse go to the dead-letter topic with the reason', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-dlq');
  const deadTopic = await createTopic('e2e-dead');
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 2) + 'this is not an access log line\n' + combinedLines(2, 2));
  const agent = new AgentProcess(['run', '--config', agentConfig(dir, topic, [log], deadTopic)]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('good lines shipped', async () => (await topicSize(topic)) >= 4);
  await waitFor('bad line dead-lettered', async () => (await topicSize(deadTopic)) >= 1);
  assert.equal((await agent.stop()).code, 0);

  const dead = (await readTopic(deadTopic)).map((m) => JSON.parse(m.value) as { _raw: string; _error: string; source: { path: string } });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!._raw, 'this is not an access log line');
  assert.ok(dead[0]!._error.length > 0);
  assert.equal(dead[0]!.source.path, log);
  assert.equal((await readTopic(topic)).length, 4);
});

test('Kubernetes CRI lines are unwrapped, partial lines joined, and pod metadata added to source', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-cri');
  const containers = join(dir, 'var', 'log', 'containers');
  mkdirSync(containers, { recursive: true });
  const log = join(containers, `ingress-nginx-controller-7d9f_ingress-nginx_controller-${'ab'.repeat(32)}.log`);
  const line = combinedLine(3);
  const cut = line.indexOf('"GET');
  writeFileSync(
    log,
    `2026-11-22T10:00:00.000000001Z stdout F ${combinedLine(1)}\n` +
      `2026-11-22T10:00:00.000000002Z stderr F some controller message\n` +
      `2026-11-22T10:00:00.000000003Z stdout P ${line.slice(0, cut)}\n` +
      `2026-11-22T10:00:00.000000004Z stdout F ${line.slice(cut)}\n`,
  );
  const config = writeConfig(dir, {
    inputs: [{ paths: [join(containers, '*.log')], format: 'combined', container: 'cri', on_error: 'raw', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic },
    batch: { linger_ms: 50 },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('three records', async () => (await topicSize(topic)) >= 3);
  assert.equal((await agent.stop()).code, 0);
  const records = (await readTopic(topic)).map((m) => JSON.parse(m.value) as Record<string, unknown> & { source: Record<string, string> });
  assert.equal(records.length, 3);
  assert.equal(records[0]!.body_bytes_sent, 1001);
  assert.equal(records[1]!._raw, 'some controller message');
  assert.equal(records[2]!.request, 'GET /item/3?q=3 HTTP/1.1');
  assert.deepEqual(
    { namespace: records[2]!.source.namespace, pod: records[2]!.source.pod, container: records[2]!.source.container },
    { namespace: 'ingress-nginx', pod: 'ingress-nginx-controller-7d9f', container: 'controller' },
  );
});
