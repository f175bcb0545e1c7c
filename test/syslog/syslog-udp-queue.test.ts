/**
 * UDP has no backpressure: while Kafka cannot be reached, datagrams wait in
 * a bounded queue and the rest are dropped and counted. What was counted as
 * received and not dropped is exactly what reaches Kafka once it can.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine } from '../support/combined-lines.ts';
import { freePort } from '../support/free-port.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';
import { requireTool } from '../support/nginx.ts';
import { kafkaAppearsAt, metric, syslogPort } from './syslog-e2e.ts';

const SENT = 3000;
const QUEUE = 200;

test('UDP while Kafka is unreachable: a bounded queue, drops counted; received minus dropped arrive once it is back', async (t) => {
  await requireTool('kcat', '-V');
  const dir = tempDir(t, 'logship-syslog-udp-');
  const topic = await createTopic('syslog-udp-queue');
  const bootstrap = await freePort();
  const config = writeConfig(dir, {
    inputs: [{ name: 'edge', type: 'syslog', format: 'combined', syslog: { udp: '127.0.0.1:0', queue_messages: QUEUE, receive_buffer_bytes: '4MiB' } }],
    kafka: { brokers: [`127.0.0.1:${bootstrap}`], topic, retry_backoff_ms: 50, retry_backoff_max_ms: 300, connection_timeout_ms: 500, max_in_flight: 1 },
    batch: { linger_ms: 20, max_records: 100 },
    spool: { enabled: false },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await syslogPort(agent, 'udp');

  const sender = createSocket('udp4');
  t.after(() => sender.close());
  await send(sender, port, SENT);
  const body = await waitFor('every datagram received or dropped by the kernel', async () => {
    const { body } = await agent.http('/metrics');
    const received = metric(body, 'logship_syslog_udp_datagrams_received_total', 'input="edge"') ?? 0;
    const kernel = metric(body, 'logship_syslog_udp_kernel_drops_total', 'input="edge"') ?? 0;
    return received + kernel === SENT ? body : undefined;
  }, 30_000, 100);
  const received = metric(body, 'logship_syslog_udp_datagrams_received_total', 'input="edge"')!;
  const dropped = metric(body, 'logship_syslog_udp_datagrams_dropped_total', 'input="edge"')!;
  const kernel = metric(body, 'logship_syslog_udp_kernel_drops_total', 'input="edge"')!;
  t.diagnostic(`sent ${SENT}: received ${received} (kernel dropped ${kernel}), dropped for a full queue ${dropped}, queued ${metric(body, 'logship_syslog_udp_queued', 'input="edge"')}`);
  assert.equal(metric(body, 'logship_syslog_udp_queued', 'input="edge"'), QUEUE, 'the queue is full');
  assert.ok(dropped > 0 && dropped < received, `${dropped} dropped`);

  await kafkaAppearsAt(t, bootstrap);
  await waitFor(`${received - dropped} records in Kafka`, async () => (await topicSize(topic)) >= received - dropped, 60_000, 100);
  const records = await readTopic(topic);
  assert.equal(records.length, received - dropped, 'what was taken in, once');
  const paths = records.map((m) => (JSON.parse(m.value) as { request_path: string }).request_path);
  assert.equal(new Set(paths).size, paths.length);
  assert.equal((await agent.stop()).code, 0);
});

async function send(sender: ReturnType<typeof createSocket>, port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const msg = `<190>Nov 30 16:23:00 gw nginx: ${combinedLine(i)}`;
    await new Promise<void>((resolve, reject) => sender.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
}

test("the kernel's drops for the socket (receive buffer full) are exported: received + kernel drops = sent", async (t) => {
  const dir = tempDir(t, 'logship-syslog-kernel-');
  const topic = await createTopic('syslog-kernel-drops');
  const config = writeConfig(dir, {
    inputs: [{ name: 'edge', type: 'syslog', format: 'combined', syslog: { udp: '127.0.0.1:0', receive_buffer_bytes: 4096 } }],
    kafka: { brokers: testBrokers(), topic },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await syslogPort(agent, 'udp');
  await agent.http('/metrics'); // the metrics port is known before the agent is stopped
  // The agent stopped (SIGSTOP): nothing reads the socket, the kernel keeps what fits its small buffer and drops the rest.
  agent.child.kill('SIGSTOP');
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  try {
    await send(sender, port, 500);
  } finally {
    agent.child.kill('SIGCONT');
  }
  const body = await waitFor('every datagram accounted for', async () => {
    const { body } = await agent.http('/metrics');
    const received = metric(body, 'logship_syslog_udp_datagrams_received_total', 'input="edge"') ?? 0;
    const kernel = metric(body, 'logship_syslog_udp_kernel_drops_total', 'input="edge"') ?? 0;
    return received + kernel === 500 ? body : undefined;
  }, 30_000, 100);
  const received = metric(body, 'logship_syslog_udp_datagrams_received_total', 'input="edge"')!;
  const kernel = metric(body, 'logship_syslog_udp_kernel_drops_total', 'input="edge"')!;
  t.diagnostic(`sent 500 while the agent was stopped: received ${received}, dropped by the kernel ${kernel}`);
  assert.ok(kernel > 0, 'the kernel dropped some');
  await waitFor(`${received} records in Kafka`, async () => (await topicSize(topic)) === received, 30_000, 100);
  assert.equal((await agent.stop()).code, 0);
});
