/**
 * Failure behaviour against a real broker of this file's own (its outage
 * must not disturb other tests), with topic auto-creation off.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopicNamed, readTopic, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const kafka = new LocalKafka({ properties: { 'auto.create.topics.enable': false } });
let brokers: string[] = [];
before(async () => (brokers = await kafka.start()));
after(() => kafka.stop());

/** Which lines (by their index, carried in body_bytes_sent) are in the topic, read with kcat. */
async function topicLines(topic: string): Promise<Set<number>> {
  const records = await readTopic(topic, brokers);
  return new Set(records.map((m) => (JSON.parse(m.value) as { body_bytes_sent: number }).body_bytes_sent - 1000));
}

const createTopic = (topic: string) => createTopicNamed(topic, brokers);
const messages = (topic: string) => topicSize(topic, brokers);

/** An agent on `<dir>/access.log`; `content` (re)writes the log first, undefined leaves it as it is. */
function agentFor(t: { after(fn: () => void): void }, topic: string, content: string | undefined, settings: Record<string, unknown> = {}, dir = tempDir(t)) {
  const log = join(dir, 'access.log');
  if (content !== undefined) writeFileSync(log, content);
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers, topic, retry_backoff_ms: 50, retry_backoff_max_ms: 500, request_timeout_ms: 3000, connection_timeout_ms: 1000 },
    batch: { linger_ms: 20, max_records: 100 },
    state_dir: join(dir, 'state'),
    shutdown_timeout_ms: 5000,
    ...settings,
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  return { agent, log, dir };
}

test('without a spool, a broker stopped while shipping pauses reading; delivery resumes when it is back', async (t) => {
  const topic = 'outage';
  await createTopic(topic);
  const { agent, log } = agentFor(t, topic, combinedLines(0, 200), { spool: { enabled: false } });
  await waitFor('first lines', async () => (await messages(topic)) >= 200);

  await kafka.pause();
  appendFileSync(log, combinedLines(200, 300));
  await agent.waitForLog('cannot reach Kafka', () => true, 60_000);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  const notReady = await agent.http('/readyz');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /Kafka does not accept batches and no spool takes them/);
  assert.equal((await agent.http('/healthz')).status, 200);

  await kafka.resume();
  await agent.waitForLog('sending to Kafka works again', () => true, 60_000);
  await waitFor('every line after the outage', async () => (await topicLines(topic)).size === 500, 60_000);
  assert.equal((await agent.http('/readyz')).status, 200);
  assert.equal((await agent.stop()).code, 0);
});

test('a frozen broker (connections open, no answer): the request times out after request_timeout_ms, and delivery goes on once it answers', async (t) => {
  const topic = 'frozen';
  await createTopic(topic);
  const { agent, log } = agentFor(t, topic, combinedLines(0, 100), { spool: { enabled: false } });
  await waitFor('first lines', async () => (await messages(topic)) >= 100);
  // Idle since: the request-timeout check is armed again by the next request (it no longer ticks on an idle connection).
  kafka.freeze();
  t.after(() => kafka.thaw());
  appendFileSync(log, combinedLines(100, 50));
  const started = Date.now();
  const timedOut = await agent.waitForLog('did not answer in time', () => true, 30_000);
  const waited = Date.now() - started;
  assert.ok(waited >= 2500 && waited < 15_000, `timed out after ${waited} ms, request_timeout_ms 3000`);
  assert.equal(timedOut.kind, 'timeout');
  kafka.thaw();
  await waitFor('every line after the freeze', async () => (await topicLines(topic)).size === 150, 60_000);
  assert.equal((await agent.stop()).code, 0);
});

test('a missing topic (auto-create off) is an error that names it; creating it lets delivery go on', async (t) => {
  const topic = 'created-later';
  const { agent } = agentFor(t, topic, combinedLines(0, 50));
  const error = await agent.waitForLog(`topic ${topic} does not exist`, () => true, 60_000);
  assert.match(error.msg, /auto\.create\.topics\.enable=false/);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');

  await createTopic(topic);
  await waitFor('lines once the topic exists', async () => (await topicLines(topic)).size === 50, 60_000);
  assert.equal((await agent.stop()).code, 0);
});

test('with the spool, an outage goes to disk (checkpoints move on), and a restarted agent replays it', async (t) => {
  const topic = 'spooled';
  await createTopic(topic);
  const first = agentFor(t, topic, combinedLines(0, 200));
  await waitFor('first lines', async () => (await messages(topic)) >= 200);

  await kafka.pause();
  appendFileSync(first.log, combinedLines(200, 300));
  await first.agent.waitForLog('spooling to disk until it works again', () => true, 60_000);
  const spooled = await waitFor('300 records spooled', async () => {
    const { body } = await first.agent.http('/metrics');
    return /^logship_spooled_records_total 300$/m.test(body) ? body : undefined;
  });
  assert.match(spooled, /^logship_spool_entries [1-9]/m);
  assert.equal((await first.agent.http('/readyz')).status, 200, 'ready: the spool takes the batches');
  // Killed while Kafka is away: the spooled lines are checkpointed, only the spool has them now.
  await first.agent.stop('SIGKILL');

  await kafka.resume();
  const second = agentFor(t, topic, undefined, {}, first.dir); // same log, state dir and spool
  await second.agent.waitForLog('spool holds batches from before', () => true, 60_000);
  await waitFor('every line, replayed from the spool', async () => (await topicLines(topic)).size === 500, 60_000);
  await second.agent.waitForLog('spool drained');
  assert.equal((await second.agent.stop()).code, 0);
});
