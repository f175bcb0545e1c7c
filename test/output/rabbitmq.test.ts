/**
 * The RabbitMQ output against a real broker (Debian's rabbitmq-server,
 * started once for this file on free loopback ports): every line in order
 * with its headers, a broker crash mid-stream, blocked publishers (confirm
 * timeout), unroutable records, wrong credentials. Lines are counted by
 * the index each carries (combinedLine), read back from the queues.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'amqplib';
import { LocalRabbitmq } from '../../scripts/outputs/local-rabbitmq.ts';
import { logship } from '../cli/logship-cli.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { drainQueue, lineIndex, queueDepth } from '../support/rabbitmq.ts';
import { waitFor } from '../support/wait.ts';

const broker = new LocalRabbitmq();
before(() => broker.start());
after(() => broker.close());

/** An agent on `<dir>/access.log` publishing to `exchange`, which it declares with `queue` bound to it (binding key '#'). */
function agentFor(t: { after(fn: () => void): void }, exchange: string, content: string, rabbitmq: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, content);
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    output: {
      type: 'rabbitmq',
      rabbitmq: {
        url: broker.url,
        exchange,
        routing_key: 'nginx.{{ status }}',
        declare: { exchange_type: 'topic', queue: `${exchange}-q` },
        retry_backoff_ms: 50,
        retry_backoff_max_ms: 500,
        connection_timeout_ms: 2000,
        confirm_timeout_ms: 5000,
        ...rabbitmq,
      },
    },
    batch: { linger_ms: 20, max_records: 100 },
    state_dir: join(dir, 'state'),
    shutdown_timeout_ms: 5000,
  });
  const agent = new AgentProcess(['run', '--config', config], { ...process.env, ...env });
  t.after(() => agent.stop('SIGKILL'));
  return { agent, log };
}

/** Waits until the queue holds `count` messages, then takes them. */
async function received(queue: string, count: number, timeoutMs = 60_000) {
  await waitFor(`${count} messages in ${queue}`, async () => (await queueDepth(broker.url, queue)) >= count, timeoutMs);
  return drainQueue(broker.url, queue);
}

test('every line is published in order, persistent, with the record id, host and path headers', async (t) => {
  // One routing key: order is kept per routing key (a batch groups its records by it, as by Kafka topic).
  const { agent, log } = agentFor(t, 'order', combinedLines(0, 500), { routing_key: 'nginx' });
  const messages = await received('order-q', 500);
  assert.deepEqual(messages.map((m) => lineIndex(m.content)), [...Array(500).keys()]);
  const first = messages[0]!;
  assert.equal(first.properties.deliveryMode, 2, 'persistent');
  assert.equal(first.fields.routingKey, 'nginx');
  const headers = first.properties.headers as Record<string, string>;
  assert.match(headers['logship-id']!, /:0$/);
  assert.equal(headers['logship-path'], log);
  assert.ok(headers['logship-host']);
  assert.equal(first.properties.messageId, headers['logship-id']);
  await agent.waitForLog('connected to RabbitMQ');
  assert.equal((await agent.stop()).code, 0);
});

test('a broker crash (SIGKILL) and restart mid-stream: nothing lost', async (t) => {
  const { agent, log } = agentFor(t, 'restart', combinedLines(0, 300));
  await waitFor('the first lines', async () => (await queueDepth(broker.url, 'restart-q')) >= 100);
  // Lines keep coming while the broker is down: they go to the spool, then are replayed.
  await broker.kill();
  appendFileSync(log, combinedLines(300, 300));
  await agent.waitForLog('spooling to disk until it works again', () => true, 30_000);
  await broker.start();
  appendFileSync(log, combinedLines(600, 200));
  // Duplicates may come (batches in flight at the crash are sent again): distinct lines are counted.
  const seen = new Set<number>();
  await waitFor(
    'every line after the restart',
    async () => {
      for (const m of await drainQueue(broker.url, 'restart-q')) seen.add(lineIndex(m.content));
      return seen.size === 800;
    },
    90_000,
    500,
  );
  // The delivery's own words name the output it ships to, and /readyz says it takes batches again.
  await agent.waitForLog('sending to RabbitMQ works again');
  await agent.waitForLog('spool drained; sending straight to RabbitMQ again');
  assert.match((await agent.http('/readyz')).body, /^ready: RabbitMQ takes batches\n/);
  assert.equal(agent.child.exitCode, null);
  assert.equal((await agent.stop()).code, 0);
});

test('publishers blocked by a memory alarm: no confirm within confirm_timeout_ms, batches go to the spool, and are delivered after', async (t) => {
  const { agent, log } = agentFor(t, 'blocked', combinedLines(0, 100), { confirm_timeout_ms: 2000 });
  await received('blocked-q', 100);
  assert.equal((await broker.ctl('set_vm_memory_high_watermark', '0')).code, 0);
  t.after(() => broker.ctl('set_vm_memory_high_watermark', '0.4'));
  appendFileSync(log, combinedLines(100, 200));
  const timedOut = await agent.waitForLog('no publisher confirm within', () => true, 30_000);
  assert.equal(timedOut.kind, 'timeout');
  await waitFor('batches spooled', async () => /^logship_spooled_records_total [1-9]/m.test((await agent.http('/metrics')).body));
  assert.equal((await broker.ctl('set_vm_memory_high_watermark', '0.4')).code, 0);
  const rest = await received('blocked-q', 200);
  assert.deepEqual(new Set(rest.map((m) => lineIndex(m.content))), new Set(Array.from({ length: 200 }, (_, i) => 100 + i)));
  assert.equal((await agent.stop()).code, 0);
});

test('an unroutable record (mandatory, no queue bound) goes to the dead-letter exchange with its reason', async (t) => {
  // A direct exchange whose queue is bound for 200s only: the other statuses have no route.
  const { agent } = agentFor(t, 'unroutable', combinedLines(0, 10), {
    declare: { exchange_type: 'direct', queue: 'unroutable-q', binding_key: 'nginx.200', dead_letter_queue: 'unroutable-dlq' },
    dead_letter_exchange: 'unroutable-dlx',
  });
  const routed = await received('unroutable-q', 2);
  assert.deepEqual(routed.map((m) => lineIndex(m.content)), [0, 5]);
  const dead = await received('unroutable-dlq', 8);
  assert.deepEqual(dead.map((m) => lineIndex(m.content)).sort(), [1, 2, 3, 4, 6, 7, 8, 9]);
  const headers = dead.find((m) => lineIndex(m.content) === 1)!.properties.headers as Record<string, string>;
  assert.match(headers['logship-reason']!, /unroutable \(312 NO_ROUTE\): exchange "unroutable" routes routing key "nginx.201" to no queue/);
  assert.equal(headers['logship-routing-key'], 'nginx.201');
  assert.match(headers['logship-id']!, /:\d+$/);
  await agent.waitForLog('records sent to the dead-letter exchange');
  assert.match((await agent.http('/metrics')).body, /^logship_unroutable_records_total\{output="rabbitmq"\} 8$/m);
  assert.equal((await agent.stop()).code, 0);
});

test('wrong credentials: one clear error, the agent stays up and keeps trying, the password is not logged', async (t) => {
  const wrong = 'not-the-guest-password';
  const { agent } = agentFor(t, 'denied', combinedLines(0, 10), { username: 'guest', password_env: 'RABBIT_TEST_PASSWORD' }, { RABBIT_TEST_PASSWORD: wrong });
  const error = await agent.waitForLog('refused access');
  assert.match(error.msg, /403 ACCESS_REFUSED.*check output\.rabbitmq\.username, the password/);
  assert.equal(error.kind, 'auth');
  // Several tries (counted), one line said: the same error is not logged again within a minute.
  await waitFor('several failed tries', async () => {
    const match = /^logship_errors_total\{kind="auth"\} (\d+)$/m.exec((await agent.http('/metrics')).body);
    return match !== null && Number(match[1]) >= 3;
  });
  const said = agent.logs.filter((l) => l.level >= 50 && l.msg.includes('refused access'));
  assert.ok(said.length <= 2, `said ${said.length} times (start-up and first send at most)`);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  assert.equal((await agent.stop()).code, 0);
  assert.ok(!JSON.stringify(agent.logs).includes(wrong) && !agent.stderr.includes(wrong), 'the password appears in the agent output');
});

test('check: the broker reachable and authenticated, the exchange there or not; wrong credentials named', async (t) => {
  const dir = tempDir(t);
  const model = await connect(broker.url);
  await (await model.createChannel()).assertExchange('checked', 'topic');
  await model.close();
  const config = (rabbitmq: Record<string, unknown>) =>
    writeConfig(dir, {
      inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }],
      output: { type: 'rabbitmq', rabbitmq: { url: broker.url, exchange: 'checked', routing_key: 'nginx', ...rabbitmq } },
      state_dir: join(dir, 'state'),
    });
  const good = await logship(['check', '--config', config({ dead_letter_exchange: 'nowhere' })]);
  assert.match(good.stdout, /✔ rabbitmq amqp:\/\/127\.0\.0\.1:\d+ \(user guest, vhost \/\): reachable, authenticated: RabbitMQ 3\./);
  assert.match(good.stdout, /✔ rabbitmq exchange "checked": exists/);
  assert.match(good.stdout, /✘ rabbitmq dead-letter exchange "nowhere": NOT_FOUND - no exchange 'nowhere' in vhost '\/'/);
  assert.equal(good.code, 1, good.stdout);

  const denied = await logship(['check', '--config', config({ username: 'guest', password_env: 'RABBIT_TEST_PASSWORD' })], { env: { ...process.env, RABBIT_TEST_PASSWORD: 'wrong' } });
  assert.match(denied.stdout, /✘ rabbitmq .*refused access \(403 ACCESS_REFUSED/);
  assert.equal(denied.code, 1);

  const unset = await logship(['check', '--config', config({ username: 'guest', password_env: 'RABBIT_UNSET_PASSWORD' })]);
  assert.match(unset.stdout, /✘ rabbitmq: output\.rabbitmq\.password_env: environment variable RABBIT_UNSET_PASSWORD is not set/);
  assert.equal(unset.code, 2, 'a setting to fix');
});
