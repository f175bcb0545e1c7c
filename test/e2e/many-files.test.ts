/**
 * Issue 13's failure 5, made deterministic: thousands of files under one
 * glob, more than the descriptor budget. Every line arrives once, the
 * descriptors stay within max_open_files, and the agent's peak RSS stays
 * within the bound it states for its settings and files
 * (logship_memory_bound_bytes): 254 MB were seen with 3,000 files against
 * a 256 Mi DaemonSet limit. Idle CPU is a figure, measured by `npm run
 * bench:files`, not asserted here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const FILES = 3_000;
const LINES = 2;
const MAX_OPEN_FILES = 256;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test(`${FILES} files, ${MAX_OPEN_FILES} descriptors: every line once, descriptors bounded, peak RSS within the stated bound`, { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  for (let f = 0; f < FILES; f++) writeFileSync(join(logs, `vhost${f}.access.log`), combinedLines(f * LINES, LINES));
  const topic = await createTopic('e2e-many-files');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [{ paths: [join(logs, '*.access.log')], format: 'combined', max_open_files: MAX_OPEN_FILES }],
    kafka: { brokers: testBrokers(), topic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('every line in Kafka', async () => (await topicSize(topic)) >= FILES * LINES, 120_000, 200);

  const body = (await agent.http('/metrics')).body;
  assert.ok(metric(body, 'logship_open_files') <= MAX_OPEN_FILES, `open files ${metric(body, 'logship_open_files')}`);
  const bound = metric(body, 'logship_memory_bound_bytes');
  const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))![1]) * 1024;
  t.diagnostic(`peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, bound ${(bound / 2 ** 20).toFixed(0)} MiB for ${FILES} files`);
  assert.ok(bound > 0 && peak <= bound, `peak RSS ${peak} over the bound ${bound}`);
  assert.equal((await agent.stop()).code, 0);

  const ids = (await readTopic(topic)).map((m) => m.headers['logship-id']);
  assert.equal(ids.length, FILES * LINES, 'each line once');
  assert.equal(new Set(ids).size, FILES * LINES);
});
