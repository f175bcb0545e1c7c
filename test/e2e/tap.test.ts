/**
 * `logship tap` against a running agent shipping to the real Kafka: the
 * messages it shows are the ones Kafka got, filtered and rate-limited;
 * it is refused on a non-loopback listen address unless enabled; each
 * session is logged.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, CLI, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { runProcess } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';

interface Tapped {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: { request_uri?: string; source: { input: string; path: string } };
}

async function agentPort(agent: AgentProcess): Promise<number> {
  const line = await agent.waitForLog('metrics and health endpoints listening');
  return (line.address as { port: number }).port;
}

test('tap shows the messages Kafka gets, for the input asked, at most --rate a second; the session is logged', async (t) => {
  const dir = tempDir(t);
  const webTopic = await createTopic('e2e-tap-web');
  const apiTopic = await createTopic('e2e-tap-api');
  const web = join(dir, 'web-access.log');
  const api = join(dir, 'api-access.log');
  writeFileSync(web, '');
  writeFileSync(api, '');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [
      { name: 'web', paths: [web], format: 'combined', topic: webTopic, poll_interval_ms: 50 },
      { name: 'api', paths: [api], format: 'combined', topic: apiTopic, poll_interval_ms: 50 },
    ],
    kafka: { brokers: testBrokers(), topic: webTopic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await agentPort(agent);

  const rate = 5;
  const tap = new AgentProcess(['tap', '--url', `127.0.0.1:${port}`, '--input', 'web', '--rate', String(rate)]);
  t.after(() => tap.stop('SIGKILL'));
  await agent.waitForLog('tap session started');
  const started = Date.now();
  // Both inputs busy for 3 s: 100 lines each every 100 ms.
  let written = 0;
  while (Date.now() - started < 3000) {
    appendFileSync(web, combinedLines(written, 100));
    appendFileSync(api, combinedLines(100_000 + written, 100));
    written += 100;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await waitFor('all lines in Kafka', async () => (await topicSize(webTopic)) === written && (await topicSize(apiTopic)) === written);
  await tap.stop('SIGINT');
  const elapsed = (Date.now() - started) / 1000;
  const tapped = tap.logs.map((l) => l as unknown as Tapped);
  console.log(`tap showed ${tapped.length} of ${written} web lines in ${elapsed.toFixed(1)} s at --rate ${rate}; first: ${JSON.stringify(tapped[0])}`);

  // The filter: only web's messages.
  assert.ok(tapped.length >= rate, `at least a second's worth shown (${tapped.length})`);
  for (const m of tapped) {
    assert.equal(m.topic, webTopic);
    assert.equal(m.value.source.input, 'web');
    assert.equal(m.headers['logship-path'], web);
  }
  // What tap shows is what Kafka got: the same value, byte for byte, and the same headers.
  const inKafka = new Map((await readTopic(webTopic)).map((m) => [m.headers['logship-id'], m]));
  for (const m of tapped) {
    const sent = inKafka.get(m.headers['logship-id']);
    assert.ok(sent, `tapped message ${m.headers['logship-id']} is in Kafka`);
    assert.equal(JSON.stringify(m.value), sent.value);
    assert.deepEqual(m.headers, sent.headers);
  }

  const ended = await agent.waitForLog('tap session ended');
  assert.match(String(ended.remote), /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(ended.filters, { input: 'web' });
  assert.equal(ended.rate, rate);
  assert.equal(ended.records_shown, tapped.length);
  assert.ok((ended.duration_ms as number) >= 2900);
  // The rate: a second's burst, then `rate` a second, over the session as the agent timed it.
  const seconds = (ended.duration_ms as number) / 1000;
  assert.ok(tapped.length <= rate * (seconds + 1), `${tapped.length} messages in ${seconds} s exceed --rate ${rate}`);
  assert.equal(ended.level, 30, 'logged at info');
  assert.equal((await agent.stop()).code, 0);
});

test('tap filters by file (glob or part of the path) and by topic', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-tap-file');
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, '');
  writeFileSync(b, '');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [{ name: 'all', paths: [join(dir, '*.log')], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  const port = await agentPort(agent);
  const byGlob = new AgentProcess(['tap', '--url', `http://127.0.0.1:${port}`, '--file', '**/b.log', '--rate', '1000']);
  const byPart = new AgentProcess(['tap', '--url', `http://127.0.0.1:${port}`, '--file', 'a.lo', '--topic', topic, '--rate', '1000']);
  const otherTopic = new AgentProcess(['tap', '--url', `http://127.0.0.1:${port}`, '--topic', `${topic}-not`, '--rate', '1000']);
  for (const tap of [byGlob, byPart, otherTopic]) t.after(() => tap.stop('SIGKILL'));
  await waitFor('three tap sessions', () => agent.logs.filter((l) => l.msg === 'tap session started').length === 3);
  appendFileSync(a, combinedLines(0, 20));
  appendFileSync(b, combinedLines(100, 30));
  await waitFor('all shown', () => byGlob.logs.length === 30 && byPart.logs.length === 20);
  assert.ok(byGlob.logs.every((l) => (l as unknown as Tapped).headers['logship-path'] === b));
  assert.ok(byPart.logs.every((l) => (l as unknown as Tapped).headers['logship-path'] === a));
  await waitFor('all lines in Kafka', async () => (await topicSize(topic)) === 50);
  assert.equal(otherTopic.logs.length, 0);
  assert.equal((await agent.stop()).code, 0);
  // The agent ended the sessions as it stopped.
  for (const tap of [byGlob, byPart, otherTopic]) assert.equal((await tap.exited).code, 0);
});

test('tap is refused on a non-loopback listen address unless metrics.tap is true', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('e2e-tap-refused');
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 3));
  const base = {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic },
    state_dir: join(dir, 'state'),
  };
  const open = new AgentProcess(['run', '--config', writeConfig(dir, { ...base, metrics: { listen: '0.0.0.0:0' } })]);
  t.after(() => open.stop('SIGKILL'));
  const refused = await open.http('/tap');
  assert.equal(refused.status, 403);
  assert.match(refused.body, /tap is off: metrics\.listen 0\.0\.0\.0:0 is not a loopback address and records may hold personal data; set metrics\.tap: true/);
  const cli = await runProcess(process.execPath, [CLI, 'tap', '--url', `127.0.0.1:${await agentPort(open)}`], { timeoutMs: 20_000 });
  console.log(`logship tap on a 0.0.0.0 listen: exit ${cli.code}: ${cli.stderr.trim()}`);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^logship tap: http:\/\/127\.0\.0\.1:\d+: 403 tap is off: metrics\.listen 0\.0\.0\.0:0 is not a loopback address/);
  assert.ok(open.logs.some((l) => l.msg.startsWith('tap refused: tap is off') && /^127\.0\.0\.1:/.test(String(l.remote))));
  await waitFor('shipped', async () => (await topicSize(topic)) === 3);
  assert.equal((await open.stop()).code, 0);

  const enabled = new AgentProcess(['run', '--config', writeConfig(dir, { ...base, metrics: { listen: '0.0.0.0:0', tap: true } })]);
  t.after(() => enabled.stop('SIGKILL'));
  const tap = new AgentProcess(['tap', '--url', `127.0.0.1:${await agentPort(enabled)}`]);
  t.after(() => tap.stop('SIGKILL'));
  await enabled.waitForLog('tap session started');
  appendFileSync(log, combinedLines(3, 2));
  await waitFor('tapped', () => tap.logs.length === 2);
  assert.equal((await enabled.stop()).code, 0);
});
