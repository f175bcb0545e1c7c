/**
 * The delivery contract under a crash: SIGKILL the agent mid-stream,
 * restart it, and every line is in Kafka; repeats carry the same id.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

/** The committed offset of the only file in the agent's checkpoints. */
function checkpointOffset(stateDir: string): number {
  try {
    const files = (JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> }).files;
    return Math.max(0, ...Object.values(files).map((f) => f.offset));
  } catch {
    return 0;
  }
}

test('SIGKILL mid-stream, restart: every line arrives, duplicates keep their ids', async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'state');
  const topic = await createTopic('e2e-crash');
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 20 }],
    kafka: { brokers: testBrokers(), topic, max_in_flight: 4 },
    batch: { max_records: 200, linger_ms: 20 },
    state_dir: state,
  });

  // A live log: 20,000 lines appended in chunks while the agent runs and dies.
  const total = 20_000;
  let written = 0;
  const writer = setInterval(() => {
    if (written >= total) return clearInterval(writer);
    appendFileSync(log, combinedLines(written, 500));
    written += 500;
  }, 10);
  t.after(() => clearInterval(writer));

  const first = new AgentProcess(['run', '--config', config]);
  t.after(() => first.stop('SIGKILL'));
  await waitFor('some records shipped', async () => (await topicSize(topic)) >= 3000);
  const killed = await first.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const atKill = await topicSize(topic);

  const second = new AgentProcess(['run', '--config', config]);
  t.after(() => second.stop('SIGKILL'));
  await waitFor('every line written', () => written >= total);
  await waitFor('the checkpoint at the end of the file', () => checkpointOffset(state) === statSync(log).size, 60_000);
  assert.equal((await second.stop('SIGTERM')).code, 0);

  const messages = await readTopic(topic);
  const idsByLine = new Map<number, Set<string>>();
  for (const m of messages) {
    const line = (JSON.parse(m.value) as { body_bytes_sent: number }).body_bytes_sent - 1000;
    let ids = idsByLine.get(line);
    if (!ids) idsByLine.set(line, (ids = new Set()));
    ids.add(m.headers['logship-id']!);
  }
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !idsByLine.has(i));
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} lines missing after the crash`);
  const duplicates = messages.length - total;
  t.diagnostic(`${messages.length} messages for ${total} lines: ${duplicates} duplicates (killed with ${atKill} in Kafka; bound: batches in flight)`);
  // A repeat is the same line sent again: it carries the same id.
  for (const [line, ids] of idsByLine) assert.equal(ids.size, 1, `line ${line} arrived with different ids: ${[...ids].join(', ')}`);
  // Repeated: what Kafka had but the checkpoint on disk did not. A batch holds its in-flight slot until its
  // checkpoint is on disk, so that is at most max_in_flight batches, plus the one that made the pipeline full.
  assert.ok(duplicates <= (4 + 1) * 200, `${duplicates} duplicates exceed the in-flight bound`);
});
