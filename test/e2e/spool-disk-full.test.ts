/**
 * Issue 13: a full disk under the spool must not hang delivery. The real
 * agent spools to a ~5 MiB filesystem while its broker (this file's own) is
 * stopped and 200,000 lines wait in the log; the spool fills the disk
 * (ENOSPC). Once the broker is back, every line must arrive exactly once,
 * without restarting the agent, and the agent must hold no deleted file
 * open (a drained segment kept open keeps its space).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine } from '../support/combined-lines.ts';
import { createTopicNamed, topicSize } from '../support/kafka.ts';
import { smallFilesystem } from '../support/small-fs.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const kafka = new LocalKafka();
before(() => kafka.start());
after(() => kafka.stop());

const WARM_UP = 100;
const LINES = 200_000;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Files the process holds open that are deleted (their space is not freed while they are open). */
function deletedOpenFiles(pid: number): string[] {
  const fds = join('/proc', String(pid), 'fd');
  const out: string[] = [];
  for (const fd of readdirSync(fds)) {
    try {
      const target = readlinkSync(join(fds, fd));
      if (target.endsWith('(deleted)')) out.push(`${fd} -> ${target}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

test('spool on a 5 MiB filesystem, broker down, 200,000 lines: disk full is survived and every line arrives once, without a restart', { timeout: 240_000 }, async (t) => {
  const mnt = smallFilesystem(t, 5 << 20);
  if (!mnt) return t.skip('cannot mount a small filesystem here (needs root)');
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  const topic = 'disk-full';
  await createTopicNamed(topic, kafka.brokers);

  // Every line's byte offset: the record id (logship-id) ends with it.
  const offsets: number[] = [];
  let size = 0;
  const lines = (from: number, count: number): string => {
    let chunk = '';
    for (let i = from; i < from + count; i++) {
      const line = combinedLine(i) + '\n';
      offsets.push(size);
      size += Buffer.byteLength(line);
      chunk += line;
    }
    return chunk;
  };
  writeFileSync(log, lines(0, WARM_UP));

  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: kafka.brokers, topic, retry_backoff_ms: 50, retry_backoff_max_ms: 1000, request_timeout_ms: 10_000, connection_timeout_ms: 1000 },
    batch: { linger_ms: 20 },
    // The spool alone on the small filesystem (checkpoints elsewhere); max_bytes far above the disk, so the disk fills first.
    spool: { dir: join(mnt, 'spool') },
    state_dir: join(dir, 'state'),
    shutdown_timeout_ms: 10_000,
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  // A failed wait says what the agent was doing.
  const explained = <T>(wait: Promise<T>): Promise<T> =>
    wait.catch((err: Error) => {
      throw new Error(`${err.message}\nagent log (last 15 lines):\n${agent.logs.slice(-15).map((l) => JSON.stringify(l).slice(0, 400)).join('\n')}`);
    });
  await explained(waitFor('the warm-up lines in Kafka', async () => (await topicSize(topic, kafka.brokers)) >= WARM_UP, 60_000));

  await kafka.pause();
  appendFileSync(log, lines(WARM_UP, LINES));
  await agent.waitForLog('spooling to disk until it works again', () => true, 60_000);
  const full = await agent.waitForLog('no space left for the spool', () => true, 120_000);
  assert.equal(full.reason, 'disk_full');
  await agent.waitForLog('spool full (disk_full)', () => true, 30_000);
  const down = await waitFor('metrics while the disk is full', async () => {
    const { body } = await agent.http('/metrics');
    return metric(body, 'logship_errors_total{kind="spool_full"}') > 0 ? body : undefined;
  });
  assert.ok(metric(down, 'logship_spool_entries') > 0, 'the spool holds batches');
  const notReady = await agent.http('/readyz');
  assert.equal(notReady.status, 503, notReady.body);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');

  const resumed = Date.now();
  await kafka.resume();
  const total = WARM_UP + LINES;
  await explained(waitFor(`${total} records in Kafka`, async () => (await topicSize(topic, kafka.brokers)) >= total, 120_000, 500));
  await explained(waitFor(
    'the agent caught up (no lag, empty spool, nothing in flight)',
    async () => {
      const { body } = await agent.http('/metrics');
      return metric(body, 'logship_file_lag_bytes') === 0 && metric(body, 'logship_spool_entries') === 0 && metric(body, 'logship_in_flight_batches') === 0;
    },
    60_000,
    250,
  ));
  t.diagnostic(`all ${total} lines delivered ${Date.now() - resumed} ms after the broker came back`);
  assert.ok(agent.logs.some((l) => l.msg.includes('the spool takes batches again')), 'the end of disk full is logged');
  assert.equal((await agent.http('/readyz')).status, 200);
  assert.deepEqual(deletedOpenFiles(agent.child.pid!), [], 'no deleted file held open');

  const { stdout } = await exec('kcat', ['-C', '-b', kafka.brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%h\n'], { maxBuffer: 1 << 30 });
  const seen = new Map<number, number>();
  let messages = 0;
  for (const headers of stdout.split('\n')) {
    if (!headers) continue;
    messages++;
    const id = /logship-id=([^,]+)/.exec(headers)![1]!;
    const offset = Number(id.slice(id.lastIndexOf(':') + 1));
    seen.set(offset, (seen.get(offset) ?? 0) + 1);
  }
  const missing = offsets.filter((o) => !seen.has(o));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${total} lines missing`);
  assert.equal(seen.size, total, 'no message for an offset that is not a line');
  assert.equal(messages, total, `${messages - total} duplicates`);
  assert.equal((await agent.stop()).code, 0);
});
