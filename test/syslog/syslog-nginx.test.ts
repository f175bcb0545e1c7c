/**
 * A syslog input fed by real nginx (`access_log syslog:server=...`) over
 * UDP, shipping to the real Kafka: every request nginx logged arrives once,
 * counted by $request_id against nginx's own plain access log of the same
 * requests; two nginx with two tags and two formats on one port.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { Nginx, requireTool } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';
import { FORMAT_API, FORMAT_WEB, metric, syslogPort, syslogRecords, truthIds } from './syslog-e2e.ts';

const REQUESTS = 300;

test('nginx logs to the agent over UDP: two tags with two formats on one port, every request once, source has sender and tag', async (t) => {
  await Promise.all([requireTool('nginx', '-v'), requireTool('kcat', '-V')]);
  const dir = tempDir(t, 'logship-syslog-');
  const [webTopic, apiTopic, deadTopic] = await Promise.all([createTopic('syslog-web'), createTopic('syslog-api'), createTopic('syslog-dead')]);
  const config = writeConfig(dir, {
    inputs: [{ name: 'edge', type: 'syslog', format: FORMAT_WEB, syslog: { udp: '127.0.0.1:0', receive_buffer_bytes: '1MiB', tags: { api: { format: FORMAT_API, topic: apiTopic } } } }],
    kafka: { brokers: testBrokers(), topic: webTopic, dead_letter_topic: deadTopic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await syslogPort(agent, 'udp');

  // Two nginx, each logging every request to the agent (its tag) and to a plain file (the truth).
  const web = await Nginx.start(t, join(dir, 'web'), { accessLog: `syslog:server=127.0.0.1:${port},tag=web,facility=local7,severity=info`, truthLog: join(dir, 'web.log'), logFormat: FORMAT_WEB });
  const api = await Nginx.start(t, join(dir, 'api'), { accessLog: `syslog:server=127.0.0.1:${port},tag=api,nohostname`, truthLog: join(dir, 'api.log'), logFormat: FORMAT_API });
  await Promise.all([web.request(REQUESTS, '/ok'), api.request(REQUESTS, '/ok')]);
  // The start-up probes are requests too: nginx's own logs say how many it logged.
  const webTruth = truthIds(join(dir, 'web.log'), 'web');
  const apiTruth = truthIds(join(dir, 'api.log'), 'api');
  assert.equal(webTruth.length, await web.loggedRequests());
  assert.equal(apiTruth.length, await api.loggedRequests());

  await waitFor('every request in Kafka', async () => (await topicSize(webTopic)) >= webTruth.length && (await topicSize(apiTopic)) >= apiTruth.length, 30_000, 100);
  const webRecords = syslogRecords(await readTopic(webTopic));
  const apiRecords = syslogRecords(await readTopic(apiTopic));
  t.diagnostic(`web: ${webRecords.length} records for ${webTruth.length} requests; api: ${apiRecords.length} for ${apiTruth.length}`);
  assert.deepEqual(webRecords.map((r) => r.request_id).sort(), [...webTruth].sort());
  assert.deepEqual(apiRecords.map((r) => r.request_id).sort(), [...apiTruth].sort());
  assert.deepEqual(webRecords[0]!.source, { host: webRecords[0]!.source.host, input: 'edge', transport: 'udp', address: '127.0.0.1', hostname: hostname(), tag: 'web' });
  assert.equal(apiRecords[0]!.source.tag, 'api');
  assert.equal(apiRecords[0]!.source.hostname, '', 'nohostname: no host name in the header');
  const ids = [...webRecords, ...apiRecords].map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'record ids are unique');
  t.diagnostic(`record id: ${ids[0]}`);

  // A datagram that is not syslog: counted, and dead-lettered by the format with its reason.
  const sender = createSocket('udp4');
  await new Promise<void>((resolve, reject) => sender.send('hello, not syslog', port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  sender.close();
  await waitFor('the dead letter', async () => (await topicSize(deadTopic)) === 1, 30_000, 100);
  const [dead] = await readTopic(deadTopic);
  assert.match(dead!.value, /"_raw":"hello, not syslog"/);

  const { body } = await agent.http('/metrics');
  const received = metric(body, 'logship_syslog_udp_datagrams_received_total', 'input="edge"');
  assert.equal(received, webTruth.length + apiTruth.length + 1);
  assert.equal(metric(body, 'logship_syslog_udp_datagrams_dropped_total', 'input="edge"'), 0);
  assert.equal(metric(body, 'logship_syslog_malformed_total', 'input="edge"'), 1);
  // Read from /proc/net/udp for the agent's own socket: present, and nothing dropped at this rate.
  assert.equal(metric(body, 'logship_syslog_udp_kernel_drops_total', 'input="edge"'), 0);
  assert.equal((await agent.stop()).code, 0);
});
