/**
 * The Redis Streams output against a real server (Debian's redis-server,
 * started once for this file on a free loopback port, append-only file
 * fsynced on every write): every line in order with its fields, MAXLEN ~,
 * a server crash mid-stream, a frozen server (command timeout), a key that
 * is not a stream, wrong credentials. Lines are counted by the index each
 * carries (combinedLine), read back with XRANGE.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { LocalRedis } from '../../scripts/outputs/local-redis.ts';
import { logship } from '../cli/logship-cli.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { waitFor } from '../support/wait.ts';

const server = new LocalRedis({ args: ['--user', 'logship', 'on', '>right-password', '~*', '&*', '+@all'] });
let client: Redis;
before(async () => {
  await server.start();
  client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // while the server is killed; commands of the test say it
  await client.connect();
});
after(async () => {
  client.disconnect();
  await server.close();
});

function agentFor(t: { after(fn: () => void): void }, stream: string, content: string, redis: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, content);
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    output: {
      type: 'redis',
      redis: { url: server.url, stream, retry_backoff_ms: 50, retry_backoff_max_ms: 500, connection_timeout_ms: 2000, command_timeout_ms: 5000, ...redis },
    },
    batch: { linger_ms: 20, max_records: 100 },
    state_dir: join(dir, 'state'),
    shutdown_timeout_ms: 5000,
  });
  const agent = new AgentProcess(['run', '--config', config], { ...process.env, ...env });
  t.after(() => agent.stop('SIGKILL'));
  return { agent, log };
}

/** A stream's entries as field maps, oldest first. */
async function entries(stream: string): Promise<Record<string, string>[]> {
  const raw = await client.xrange(stream, '-', '+');
  return raw.map(([, fields]) => {
    const out: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
    return out;
  });
}

function lineIndex(entry: Record<string, string>): number {
  return (JSON.parse(entry.record!) as { body_bytes_sent: number }).body_bytes_sent - 1000;
}

test('every line is added in order, with the record JSON and its id, host and path fields', async (t) => {
  const { agent, log } = agentFor(t, 'order', combinedLines(0, 500));
  await waitFor('500 entries', async () => (await client.xlen('order')) >= 500);
  const added = await entries('order');
  assert.deepEqual(added.map(lineIndex), [...Array(500).keys()]);
  assert.match(added[0]!['logship-id']!, /:0$/);
  assert.equal(added[0]!['logship-path'], log);
  assert.ok(added[0]!['logship-host']);
  await agent.waitForLog('connected to Redis');
  assert.equal((await agent.stop()).code, 0);
});

test('maxlen trims each stream to about that many entries (MAXLEN ~); a stream template renders Redis key names as written (`:`)', async (t) => {
  const { agent } = agentFor(t, 'trimmed:{{ status }}', combinedLines(0, 2000), { maxlen: 100 });
  await waitFor('the last line', async () => {
    const last = await client.xrevrange('trimmed:500', '+', '-', 'COUNT', 1);
    return last.length === 1 && last[0]![1][1]!.includes('"body_bytes_sent":2999');
  });
  // 400 lines a status; MAXLEN ~ trims whole nodes (100 entries by default), so between 100 and 200 stay.
  for (const status of [200, 201, 304, 404, 500]) {
    const length = await client.xlen(`trimmed:${status}`);
    assert.ok(length >= 100 && length < 400, `trimmed:${status}: ${length} entries`);
  }
  assert.equal((await agent.stop()).code, 0);
});

test('a server crash (SIGKILL) and restart mid-stream: nothing lost', async (t) => {
  const { agent, log } = agentFor(t, 'restart', combinedLines(0, 300));
  await waitFor('the first lines', async () => (await client.xlen('restart')) >= 100);
  await server.kill();
  appendFileSync(log, combinedLines(300, 300));
  await agent.waitForLog('spooling to disk until it works again', () => true, 30_000);
  await server.start();
  appendFileSync(log, combinedLines(600, 200));
  // Duplicates may come (a pipeline in flight at the crash is sent again): distinct lines are counted.
  await waitFor('every line after the restart', async () => new Set((await entries('restart')).map(lineIndex)).size === 800, 60_000, 250);
  // The delivery's own words name the output it ships to, and /readyz says it takes batches again.
  await agent.waitForLog('sending to Redis works again');
  await agent.waitForLog('spool drained; sending straight to Redis again');
  assert.match((await agent.http('/readyz')).body, /^ready: Redis takes batches\n/);
  assert.equal(agent.child.exitCode, null);
  assert.equal((await agent.stop()).code, 0);
});

test('a frozen server: no reply within command_timeout_ms, batches go to the spool, and are delivered after', async (t) => {
  const { agent, log } = agentFor(t, 'frozen', combinedLines(0, 100), { command_timeout_ms: 1500 });
  await waitFor('the first lines', async () => (await client.xlen('frozen')) === 100);
  server.freeze();
  t.after(() => server.thaw());
  appendFileSync(log, combinedLines(100, 200));
  const timedOut = await agent.waitForLog('did not answer in time', () => true, 30_000);
  assert.equal(timedOut.kind, 'timeout');
  await waitFor('batches spooled', async () => /^logship_spooled_records_total [1-9]/m.test((await agent.http('/metrics')).body));
  server.thaw();
  await waitFor('every line after the freeze', async () => new Set((await entries('frozen')).map(lineIndex)).size === 300, 60_000, 250);
  assert.equal((await agent.stop()).code, 0);
});

test('a key that is not a stream: its records go to the dead-letter stream with the reason', async (t) => {
  await client.set('not-a-stream', 'a string');
  const { agent } = agentFor(t, 'not-a-stream', combinedLines(0, 10), { dead_letter_stream: 'dead' });
  await waitFor('10 dead letters', async () => (await client.xlen('dead')) === 10);
  const dead = await entries('dead');
  assert.deepEqual(dead.map(lineIndex), [...Array(10).keys()]);
  assert.match(dead[0]!['logship-reason']!, /key "not-a-stream" is not a stream \(WRONGTYPE/);
  assert.equal(dead[0]!['logship-stream'], 'not-a-stream');
  await agent.waitForLog('records sent to the dead-letter stream');
  assert.match((await agent.http('/metrics')).body, /^logship_unroutable_records_total\{output="redis"\} 10$/m);
  assert.equal((await agent.stop()).code, 0);
});

test('wrong credentials (ACL user): one clear error, the agent stays up and keeps trying, the password is not logged', async (t) => {
  const wrong = 'not-the-password';
  const { agent } = agentFor(t, 'denied', combinedLines(0, 10), { username: 'logship', password_env: 'REDIS_TEST_PASSWORD' }, { REDIS_TEST_PASSWORD: wrong });
  const error = await agent.waitForLog('rejected the credentials');
  assert.match(error.msg, /WRONGPASS.*check output\.redis\.username and the password/);
  assert.equal(error.kind, 'auth');
  await waitFor('several failed tries', async () => {
    const match = /^logship_errors_total\{kind="auth"\} (\d+)$/m.exec((await agent.http('/metrics')).body);
    return match !== null && Number(match[1]) >= 3;
  });
  const said = agent.logs.filter((l) => l.level >= 50 && l.msg.includes('rejected the credentials'));
  assert.ok(said.length <= 2, `said ${said.length} times (start-up and first send at most)`);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  assert.equal((await agent.stop()).code, 0);
  assert.ok(!JSON.stringify(agent.logs).includes(wrong) && !agent.stderr.includes(wrong), 'the password appears in the agent output');
});

test('the right ACL user and password: delivered', async (t) => {
  const { agent } = agentFor(t, 'authenticated', combinedLines(0, 10), { username: 'logship', password_env: 'REDIS_TEST_PASSWORD' }, { REDIS_TEST_PASSWORD: 'right-password' });
  await waitFor('10 entries', async () => (await client.xlen('authenticated')) === 10);
  assert.equal((await agent.stop()).code, 0);
});

test('check: the server reachable and authenticated, the streams writable by the ACL user; a key that is not a stream named', async (t) => {
  const dir = tempDir(t);
  await client.set('check-string', 'x');
  await client.xadd('checked', '*', 'record', '{}');
  const config = (redis: Record<string, unknown>) =>
    writeConfig(dir, {
      inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }],
      output: { type: 'redis', redis: { url: server.url, stream: 'checked', username: 'logship', password_env: 'REDIS_TEST_PASSWORD', ...redis } },
      state_dir: join(dir, 'state'),
    });
  const env = { ...process.env, REDIS_TEST_PASSWORD: 'right-password' };
  const good = await logship(['check', '--config', config({})], { env });
  assert.match(good.stdout, /✔ redis redis:\/\/127\.0\.0\.1:\d+ \(user logship\): reachable, authenticated as logship: Redis \d/);
  assert.match(good.stdout, /✔ redis stream checked: exists \(1 entries\); the user may XADD to it/);
  assert.match(good.stdout, /✔ redis dead-letter stream logship-dead-letter: does not exist yet/);
  assert.equal(good.code, 0, good.stdout);

  const wrongType = await logship(['check', '--config', config({ stream: 'check-string' })], { env });
  assert.match(wrongType.stdout, /✘ redis stream check-string: the key holds a string, not a stream/);
  assert.equal(wrongType.code, 1);

  const denied = await logship(['check', '--config', config({})], { env: { ...process.env, REDIS_TEST_PASSWORD: 'wrong' } });
  assert.match(denied.stdout, /✘ redis .*rejected the credentials \(WRONGPASS/);
  assert.equal(denied.code, 1);
});
