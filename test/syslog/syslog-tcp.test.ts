/**
 * Syslog over TCP: real nginx → real rsyslog (UDP in, TCP out, both
 * framings) → the agent → the real Kafka, counted by $request_id; and
 * backpressure: while Kafka cannot be reached, the agent stops reading
 * the connection (the sender's writes back up), and everything arrives
 * once it can.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine } from '../support/combined-lines.ts';
import { freePort } from '../support/free-port.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { Nginx, requireTool } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';
import { Rsyslog } from './rsyslog.ts';
import { FORMAT_WEB, kafkaAppearsAt, metric, syslogPort, syslogRecords, truthIds } from './syslog-e2e.ts';

const REQUESTS = 300;

test('nginx → rsyslog → agent over TCP, octet-counted RFC 5424 and newline-framed RFC 3164: every request once', async (t) => {
  await Promise.all([requireTool('nginx', '-v'), requireTool('rsyslogd', '-v'), requireTool('kcat', '-V')]);
  const dir = tempDir(t, 'logship-rsyslog-');
  const [octetTopic, newlineTopic] = await Promise.all([createTopic('rsyslog-octet'), createTopic('rsyslog-newline')]);
  const syslog = (tcp: string) => ({ tcp, tags: {} });
  const config = writeConfig(dir, {
    inputs: [
      { name: 'relay-5424', type: 'syslog', format: FORMAT_WEB, topic: octetTopic, syslog: syslog('127.0.0.1:0') },
      { name: 'relay-3164', type: 'syslog', format: FORMAT_WEB, topic: newlineTopic, syslog: syslog('127.0.0.1:0') },
    ],
    kafka: { brokers: testBrokers(), topic: octetTopic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  const [octetPort, newlinePort] = await Promise.all([syslogPort(agent, 'tcp', 'relay-5424'), syslogPort(agent, 'tcp', 'relay-3164')]);

  const relayPort = await freePort();
  await Rsyslog.start(t, join(dir, 'rsyslog'), relayPort, [
    { port: octetPort, framing: 'octet-counted', template: 'RSYSLOG_SyslogProtocol23Format' },
    { port: newlinePort, framing: 'traditional', template: 'RSYSLOG_ForwardFormat' },
  ]);
  const nginx = await Nginx.start(t, join(dir, 'nginx'), { accessLog: `syslog:server=127.0.0.1:${relayPort},tag=web`, truthLog: join(dir, 'web.log'), logFormat: FORMAT_WEB });
  await nginx.request(REQUESTS, '/ok');
  const truth = truthIds(join(dir, 'web.log'), 'web');
  assert.equal(truth.length, await nginx.loggedRequests());

  await waitFor('every request in both topics', async () => (await topicSize(octetTopic)) >= truth.length && (await topicSize(newlineTopic)) >= truth.length, 30_000, 100);
  for (const topic of [octetTopic, newlineTopic]) {
    const records = syslogRecords(await readTopic(topic));
    t.diagnostic(`${topic}: ${records.length} records for ${truth.length} requests; e.g. source ${JSON.stringify(records[0]!.source)} id ${records[0]!.id}`);
    assert.deepEqual(records.map((r) => r.request_id).sort(), [...truth].sort());
    assert.equal(records[0]!.source.tag, 'web');
    assert.equal(records[0]!.source.transport, 'tcp');
    assert.equal(new Set(records.map((r) => r.id)).size, records.length);
  }
  const { body } = await agent.http('/metrics');
  assert.equal(metric(body, 'logship_syslog_malformed_total', 'input="relay-5424"'), 0);
  assert.equal(metric(body, 'logship_syslog_tcp_messages_received_total', 'input="relay-3164"'), truth.length);
  assert.equal((await agent.stop()).code, 0);
});

test('TCP backpressure: while Kafka cannot be reached the connection is not read (the sender backs up); all arrives once it can', async (t) => {
  await requireTool('kcat', '-V');
  const dir = tempDir(t, 'logship-syslog-bp-');
  const topic = await createTopic('syslog-backpressure');
  // The agent's bootstrap address: nothing listens there at first (Kafka unreachable); later a proxy to the real broker.
  const bootstrap = await freePort();
  const config = writeConfig(dir, {
    inputs: [{ name: 'relay', type: 'syslog', format: 'combined', syslog: { tcp: '127.0.0.1:0' } }],
    kafka: { brokers: [`127.0.0.1:${bootstrap}`], topic, retry_backoff_ms: 50, retry_backoff_max_ms: 300, connection_timeout_ms: 500, max_in_flight: 1 },
    batch: { linger_ms: 20, max_records: 100 },
    spool: { enabled: false },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await syslogPort(agent, 'tcp');

  // A relay writing octet-counted messages as fast as the socket takes them.
  const TOTAL = 60_000;
  const sender: Socket = connect(port, '127.0.0.1');
  t.after(() => sender.destroy());
  await new Promise((resolve) => sender.once('connect', resolve));
  let written = 0;
  let blocked = false;
  const writeMore = () => {
    while (written < TOTAL) {
      const msg = `<190>Nov 30 16:23:00 relay web: ${combinedLine(written)}`;
      written++;
      if (!sender.write(`${Buffer.byteLength(msg)} ${msg}`)) {
        blocked = true;
        sender.once('drain', writeMore);
        return;
      }
    }
  };
  writeMore();

  // The agent stops reading: the sender's writes back up, and what it received stays far below what was written.
  const paused = await waitFor('the agent to pause the connection', async () => {
    const { body } = await agent.http('/metrics');
    return (metric(body, 'logship_syslog_tcp_pauses_total', 'input="relay"') ?? 0) >= 1 ? body : undefined;
  }, 30_000, 100);
  await waitFor('the sender to back up', () => blocked && sender.writableLength > 0, 30_000, 50);
  const receivedWhilePaused = metric(paused, 'logship_syslog_tcp_messages_received_total', 'input="relay"')!;
  t.diagnostic(`paused with ${receivedWhilePaused} of ${TOTAL} messages received, ${sender.writableLength} bytes waiting in the sender`);
  assert.ok(receivedWhilePaused < TOTAL, 'not everything was taken in');
  assert.equal(await topicSize(topic), 0);

  // Kafka becomes reachable (a proxy to the real broker at the bootstrap address): reading resumes, everything arrives.
  await kafkaAppearsAt(t, bootstrap);
  await waitFor(`${TOTAL} records in Kafka`, async () => (await topicSize(topic)) >= TOTAL, 120_000, 200);
  const records = await readTopic(topic);
  assert.equal(records.length, TOTAL);
  // One connection, one stream: in order, each once.
  const paths = records.map((m) => (JSON.parse(m.value) as { request_path: string }).request_path);
  assert.deepEqual(paths.slice(0, 3), ['/item/0', '/item/1', '/item/2']);
  assert.equal(new Set(paths).size, TOTAL);
  assert.equal(paths[TOTAL - 1], `/item/${TOTAL - 1}`);
  sender.end();
  assert.equal((await agent.stop()).code, 0);
});
