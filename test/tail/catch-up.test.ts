/**
 * CatchUp made visible: a file far behind is logged once with bytes and
 * an estimate, progress follows at an interval, "caught up" once. The
 * class alone on a mocked clock, then a real agent on a big file shipping
 * to the real Kafka.
 */
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../src/observe/logger.ts';
import { CatchUp, CATCH_UP } from '../../src/tail/catch-up.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 2 ** 20;

function capture(): { lines: Record<string, unknown>[]; log: Logger } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (text: string) => void lines.push(JSON.parse(text) as Record<string, unknown>) });
  return { lines, log };
}

test('far behind: said after the first estimate, progress at the interval, caught up once; a short catch-up says nothing', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const { lines, log } = capture();
  const catchUp = new CatchUp(log, { farBehindBytes: 100 * MiB, estimateAfterMs: 1000, progressEveryMs: 30_000 });
  const file = { path: '/var/log/nginx/access.log', position: 0, size: 1000 * MiB, readOffset: 0 };

  catchUp.seen({ ...file, size: 100 * MiB }); // at the threshold: not far behind
  catchUp.seen(file);
  catchUp.seen(file); // seen again at the next check: one watch
  assert.equal(lines.length, 0, 'nothing before a rate is measured');
  file.position = file.readOffset = 10 * MiB;
  t.mock.timers.tick(1000);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'far behind: 1000 MiB of /var/log/nginx/access.log to read when found, 990 MiB left, about 2m to catch up at 10 MiB/s');
  assert.deepEqual([lines[0]!.bytes_behind, lines[0]!.bytes_behind_at_start, lines[0]!.read_bytes_per_s, lines[0]!.eta_ms], [990 * MiB, 1000 * MiB, 10 * MiB, 99_000]);

  file.position = file.readOffset = 310 * MiB; // 300 MiB in 30 s
  t.mock.timers.tick(29_999);
  assert.equal(lines.length, 1, 'no progress line before the interval');
  t.mock.timers.tick(1);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.msg, 'catching up: 31% of /var/log/nginx/access.log, 690 MiB to read, about 1m to catch up at 10 MiB/s');
  assert.equal(lines[1]!.percent, 31);

  t.mock.timers.tick(30_000); // nothing read meanwhile: the pipeline is full
  assert.match(String(lines[2]!.msg), /690 MiB to read, not reading now \(the pipeline is full: Kafka slow or unreachable\?\)/);

  file.position = file.readOffset = file.size;
  t.mock.timers.tick(9_000);
  catchUp.reachedEnd(file);
  catchUp.reachedEnd(file);
  assert.equal(lines.length, 4);
  assert.deepEqual([lines[3]!.msg, lines[3]!.bytes_read, lines[3]!.took_ms], ['caught up: read 1000 MiB of /var/log/nginx/access.log in 1m', 1000 * MiB, 70_000]);
  t.mock.timers.tick(60_000);
  assert.equal(lines.length, 4, 'no timer left once caught up');

  // Caught up before the first estimate: not worth a line.
  const quick = { path: '/var/log/nginx/quick.log', position: 0, size: 200 * MiB, readOffset: 0 };
  catchUp.seen(quick);
  quick.position = quick.readOffset = quick.size;
  t.mock.timers.tick(500);
  catchUp.reachedEnd(quick);
  t.mock.timers.tick(5000);
  assert.equal(lines.length, 4);
  catchUp.stop();
});

test('a real agent on a file far behind logs it with bytes and estimate, then "caught up", shipping to Kafka', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('backfill');
  const log = join(dir, 'access.log');
  // Past the threshold by a quarter: long enough to be measured on a busy machine, short enough for CI (~2-6 s of shipping).
  const chunk = Buffer.from(combinedLines(0, 10_000));
  const fd = openSync(log, 'w');
  let size = 0;
  while (size < CATCH_UP.farBehindBytes * 1.25) size += writeSync(fd, chunk);
  closeSync(fd);
  const lines = (size / chunk.length) * 10_000;
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, { inputs: [{ paths: [log], format: 'combined' }], kafka: { brokers: testBrokers(), topic }, state_dir: join(dir, 'state') })]);
  t.after(() => agent.stop('SIGKILL'));
  const behind = await agent.waitForLog('far behind', () => true, 60_000);
  console.log(behind.msg);
  assert.equal(behind.path, log);
  assert.equal(behind.bytes_behind_at_start, size);
  assert.ok((behind.bytes_behind as number) < size && (behind.read_bytes_per_s as number) > 0 && (behind.eta_ms as number) > 0, JSON.stringify(behind));
  const caughtUp = await agent.waitForLog('caught up', () => true, 120_000);
  console.log(caughtUp.msg);
  assert.equal(caughtUp.bytes_read, size);
  await waitFor(`${lines} records in Kafka`, async () => (await topicSize(topic)) === lines, 60_000);
  assert.equal(agent.logs.filter((l) => l.msg.startsWith('far behind') || l.msg.startsWith('caught up')).length, 2, 'each said once');
  assert.equal((await agent.stop()).code, 0);
});
