/**
 * Transforms end to end: a real agent ships a file through filter,
 * privacy and fields to the real Kafka; the lines the filter drops advance
 * the checkpoint like shipped ones, so a restart (here without the filter,
 * which would ship them) does not read them again.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

test('filtered lines advance the checkpoint; shipped records arrive transformed, keyed by a renamed field', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-transforms');
  const log = join(dir, 'access.log');
  // combinedLine(i) has status [200, 201, 304, 404, 500][i % 5]: line 302, the last, is a 304.
  const first = 303;
  writeFileSync(log, combinedLines(0, first));
  const input = { paths: [log], format: 'combined', poll_interval_ms: 50, scan_interval_ms: 500 };
  const config = (transforms: object | undefined) =>
    writeConfig(dir, {
      inputs: [{ ...input, ...(transforms ? { transforms } : {}) }],
      // The key names a renamed field: valid only with the transforms.
      kafka: { brokers: testBrokers(), topic, ...(transforms ? { key: '{{ client }}' } : {}) },
      batch: { max_records: 100, linger_ms: 50 },
      state_dir: join(dir, 'state'),
    });
  const transforms = {
    filter: { drop_when: 'status == 304' },
    privacy: { ip: {}, redact_query: { params: ['q'] } },
    fields: { rename: { remote_addr: 'client' }, add: { dc: 'fra1' } },
  };
  const shippedFirst = first - Math.ceil((first - 2) / 5);
  const agent = new AgentProcess(['run', '--config', config(transforms)]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor(`${shippedFirst} records in ${topic}`, async () => (await topicSize(topic)) >= shippedFirst);
  assert.equal((await agent.stop()).code, 0, agent.stderr);
  const counters = agent.logs.find((l) => l.msg === 'stopped')!.counters as Record<string, number>;
  assert.equal(counters.records_filtered, first - shippedFirst);
  assert.equal(counters.records_sent, shippedFirst);

  const messages = await readTopic(topic);
  assert.equal(messages.length, shippedFirst);
  const records = messages.map((m) => JSON.parse(m.value) as Record<string, unknown>);
  assert.ok(records.every((r) => r.status !== 304));
  const r7 = records.find((r) => r.body_bytes_sent === 1007);
  assert.equal(r7, undefined, 'line 7 is a 304');
  const r8 = records.find((r) => r.body_bytes_sent === 1008)!;
  assert.equal(r8.client, '10.0.0.0');
  assert.equal(r8.remote_addr, undefined);
  assert.equal(r8.request, 'GET /item/8?q=REDACTED HTTP/1.1');
  assert.equal(r8.request_query, 'q=REDACTED');
  assert.equal(r8.dc, 'fra1');
  assert.deepEqual(Object.keys(r8).slice(0, 2), ['@timestamp', 'client']);
  assert.deepEqual((r8.source as { path: string }).path, log);
  assert.deepEqual(new Set(messages.map((m) => m.key)), new Set(['10.0.0.0', '10.0.1.0']));
  console.log(`  first run: ${first} lines, ${counters.records_filtered} filtered, ${counters.records_sent} sent; e.g. ${messages[1]!.value.slice(0, 160)}…`);

  // Restarted without transforms: lines before the checkpoint (the filtered 304 at the end included) are not read again.
  appendFileSync(log, combinedLines(first, 7));
  const second = new AgentProcess(['run', '--config', config(undefined)]);
  t.after(() => second.stop('SIGKILL'));
  await second.waitForLog('following file', (l) => l.from === 'checkpoint');
  await waitFor('the appended lines shipped', async () => (await topicSize(topic)) >= shippedFirst + 7);
  assert.equal((await second.stop()).code, 0, second.stderr);
  const all = (await readTopic(topic)).map((m) => JSON.parse(m.value) as { body_bytes_sent: number; remote_addr?: string });
  assert.equal(all.length, shippedFirst + 7);
  assert.deepEqual(
    all.slice(shippedFirst).map((r) => r.body_bytes_sent),
    Array.from({ length: 7 }, (_, i) => 1000 + first + i),
  );
  assert.equal(all.at(-1)!.remote_addr, `10.0.1.53`, 'the second run ships records untransformed');
});
