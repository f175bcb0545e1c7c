/**
 * `logship checkpoints list|forget|set` on the state a real agent left,
 * and the state_dir lock: one agent per state_dir, edits refused while it
 * runs, a lock left by SIGKILL taken over by the next start.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, CLI, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { runProcess } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';

const logship = (...args: string[]) => runProcess(process.execPath, [CLI, ...args], { timeoutMs: 30_000 });

interface Listed {
  id: string;
  fingerprint: string;
  input: string | null;
  path: string;
  offset: number;
  size: number | null;
  lag: number | null;
  file: string;
  acked_at: string | null;
}

async function listed(state: string): Promise<Listed[]> {
  const result = await logship('checkpoints', 'list', '--state-dir', state, '--json');
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Listed[];
}

function setup(t: { after(fn: () => void): void }, topic: string) {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  const state = join(dir, 'state');
  writeFileSync(log, combinedLines(0, 10));
  const config = writeConfig(dir, { inputs: [{ name: 'web', paths: [log], format: 'combined', poll_interval_ms: 50 }], kafka: { brokers: testBrokers(), topic }, batch: { linger_ms: 20 }, state_dir: state });
  return { dir, log, state, config };
}

test('list shows each file: identity, path, offset, size and lag, last ack; forget and set are refused while the agent runs', async (t) => {
  const topic = await createTopic('checkpoints');
  const { log, state, config } = setup(t, topic);
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('10 records in Kafka', async () => (await topicSize(topic)) === 10);
  const shipped = combinedLines(0, 10).length;
  const [entry] = await waitFor('checkpoint at the end', async () => ((await listed(state))[0]?.offset === shipped ? listed(state) : undefined));
  assert.equal(entry!.path, log);
  assert.equal(entry!.input, 'web');
  assert.match(entry!.id, /^\d+:\d+:[0-9a-f]{8}$/);
  assert.equal(entry!.fingerprint, entry!.id.split(':')[2]);
  assert.equal(entry!.file, 'present');
  assert.ok(entry!.acked_at !== null && Date.now() - Date.parse(entry!.acked_at) < 60_000, `acked_at ${entry!.acked_at}`);

  const table = await logship('checkpoints', 'list', '--config', config);
  assert.equal(table.code, 0, table.stderr);
  console.log(table.stdout);
  assert.match(table.stdout, /ID.*INPUT.*PATH.*OFFSET.*SIZE.*LAG.*FILE.*LAST ACK/);
  assert.ok(table.stdout.includes(log) && table.stdout.includes(entry!.id));

  for (const edit of [['forget', log], ['set', log, '--offset', '0']]) {
    const refused = await logship('checkpoints', ...edit, '--state-dir', state);
    assert.equal(refused.code, 2, `${edit[0]}: ${refused.stderr}`);
    assert.match(refused.stderr, new RegExp(`state_dir ${state} is in use by another logship \\(pid ${agent.child.pid}, run`));
  }
  // A second agent on the same state_dir is refused too, naming state_dir and the holder.
  const second = await logship('run', '--config', config, '--metrics-listen', '127.0.0.1:0');
  assert.equal(second.code, 2);
  assert.match(second.stderr, new RegExp(`state_dir ${state} is in use by another logship \\(pid ${agent.child.pid}, run`));
  assert.equal((await agent.stop()).code, 0);
  assert.ok(!existsSync(join(state, 'agent.lock')), 'a clean stop removes the lock');
  // Written while no agent runs: the lag is what the next start has to read.
  appendFileSync(log, combinedLines(10, 2));
  const [behind] = await listed(state);
  assert.deepEqual([behind!.offset, behind!.size, behind!.lag], [shipped, shipped + combinedLines(10, 2).length, combinedLines(10, 2).length]);
});

test('set moves a checkpoint (validated) and the next start reads from there; forget makes it a new file', async (t) => {
  const topic = await createTopic('checkpoints-set');
  const { log, state, config } = setup(t, topic);
  const first = new AgentProcess(['run', '--config', config]);
  t.after(() => first.stop('SIGKILL'));
  await waitFor('10 records in Kafka', async () => (await topicSize(topic)) === 10);
  await waitFor('checkpoint at the end', async () => (await listed(state))[0]?.offset === combinedLines(0, 10).length);
  assert.equal((await first.stop()).code, 0);

  const size = combinedLines(0, 10).length;
  const past = await logship('checkpoints', 'set', log, '--offset', String(size + 1), '--state-dir', state);
  assert.equal(past.code, 2);
  assert.match(past.stderr, new RegExp(`offset ${size + 1} is past the end of ${log} \\(${size} bytes\\)`));
  const eighth = combinedLines(0, 7).length;
  const inside = await logship('checkpoints', 'set', log, '--offset', String(eighth + 3), '--state-dir', state);
  assert.equal(inside.code, 2);
  assert.match(inside.stderr, new RegExp(`inside a line .*the nearest lines start at ${eighth} and ${combinedLines(0, 8).length}`));
  const negative = await logship('checkpoints', 'set', log, '--offset', '-5', '--state-dir', state);
  assert.equal(negative.code, 2);
  const unknown = await logship('checkpoints', 'forget', '/no/such.log', '--state-dir', state);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no checkpoint for \/no\/such\.log/);

  const set = await logship('checkpoints', 'set', log, '--offset', String(eighth), '--state-dir', state);
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await listed(state))[0]!.offset, eighth);
  const again = new AgentProcess(['run', '--config', config]);
  t.after(() => again.stop('SIGKILL'));
  await waitFor('lines 7..9 shipped again', async () => (await topicSize(topic)) === 13);
  assert.equal((await again.stop()).code, 0);
  const paths = (await readTopic(topic)).slice(10).map((m) => (JSON.parse(m.value) as { request_path: string }).request_path);
  assert.deepEqual(paths, ['/item/7', '/item/8', '/item/9']);

  const [entry] = await listed(state);
  const forget = await logship('checkpoints', 'forget', entry!.id, '--state-dir', state);
  assert.equal(forget.code, 0, forget.stderr);
  assert.match(forget.stdout, new RegExp(`forgot ${log} \\(ID ${entry!.id}, was at offset ${size}\\)`));
  assert.deepEqual(await listed(state), []);
});

test('a lock left by SIGKILL is taken over by the next start', async (t) => {
  const topic = await createTopic('checkpoints-kill');
  const { state, config } = setup(t, topic);
  const killed = new AgentProcess(['run', '--config', config]);
  t.after(() => killed.stop('SIGKILL'));
  await waitFor('10 records in Kafka', async () => (await topicSize(topic)) === 10);
  const lock = JSON.parse(readFileSync(join(state, 'agent.lock'), 'utf8')) as { pid: number; command: string };
  assert.deepEqual([lock.pid, lock.command], [killed.child.pid, 'run']);
  assert.equal((await killed.stop('SIGKILL')).signal, 'SIGKILL');
  assert.ok(existsSync(join(state, 'agent.lock')), 'SIGKILL leaves the lock behind');

  const next = new AgentProcess(['run', '--config', config]);
  t.after(() => next.stop('SIGKILL'));
  const tookOver = await next.waitForLog('took over the state_dir lock');
  assert.equal(tookOver.previous_pid, killed.child.pid);
  await next.waitForLog('logship running');
  assert.equal((JSON.parse(readFileSync(join(state, 'agent.lock'), 'utf8')) as { pid: number }).pid, next.child.pid);
  assert.equal((await next.stop()).code, 0);
  // With no agent, edits go through (and leave no lock behind).
  const forget = await logship('checkpoints', 'forget', (await listed(state))[0]!.id, '--state-dir', state);
  assert.equal(forget.code, 0, forget.stderr);
  assert.ok(!existsSync(join(state, 'agent.lock')));
});
