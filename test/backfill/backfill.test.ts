/**
 * `logship backfill` on history made by the real logrotate (compress,
 * delaycompress), against the real Kafka: every line once, oldest first; a
 * run killed with SIGKILL and run again; a run beside the live agent,
 * which shipped part of a file before logrotate compressed it.
 */
import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { AgentProcess, CLI, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { freePort } from '../support/free-port.ts';
import { createTopic, readTopic, testBrokers, topicSize, type ConsumedMessage } from '../support/kafka.ts';
import { requireTool } from '../support/nginx.ts';
import { runProcess } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';
import { lineIndexOf, RotatedLog } from './history.ts';

const ROTATIONS = 14;

interface Setup {
  dir: string;
  history: RotatedLog;
  topic: string;
  config: string;
  stateDir: string;
}

async function setup(t: TestContext, agentOptions: Record<string, unknown> = {}): Promise<Setup> {
  await Promise.all([requireTool('logrotate', '--version'), requireTool('kcat', '-V')]);
  const dir = tempDir(t, 'logship-backfill-');
  const [topic, deadTopic] = await Promise.all([createTopic('backfill'), createTopic('backfill-dead')]);
  const stateDir = join(dir, 'state');
  const history = new RotatedLog(join(dir), ROTATIONS);
  const config = writeConfig(dir, {
    inputs: [{ name: 'nginx', paths: [history.log], format: 'combined', poll_interval_ms: 50, scan_interval_ms: 200, rotate_wait_ms: 200, ...agentOptions }],
    kafka: { brokers: testBrokers(), topic, dead_letter_topic: deadTopic },
    batch: { max_records: 200, linger_ms: 20 },
    state_dir: stateDir,
    log_level: 'info',
  });
  return { dir, history, topic, config, stateDir };
}

/** `lines` lines into each of `ROTATIONS` rotated files: access.log.1, access.log.2.gz … access.log.14.gz. */
async function makeHistory(history: RotatedLog, lines: number): Promise<void> {
  for (let i = 0; i < ROTATIONS; i++) {
    history.write(lines);
    await history.rotate();
  }
}

function backfill(s: Setup, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runProcess(process.execPath, [CLI, 'backfill', '--config', s.config, '--path', `${s.history.log}.*`, ...extra], { timeoutMs: 120_000 });
}

/** Line index → the record ids it arrived with (one per copy in Kafka). */
function idsByLine(messages: ConsumedMessage[]): Map<number, string[]> {
  const byLine = new Map<number, string[]>();
  for (const m of messages) {
    const i = lineIndexOf(m.value);
    byLine.set(i, [...(byLine.get(i) ?? []), m.headers['logship-id']!]);
  }
  return byLine;
}

test('backfill ships logrotate history (access.log.1, .2.gz … .14.gz) oldest first, each line once; a second run ships nothing', async (t) => {
  const s = await setup(t);
  await makeHistory(s.history, 150);
  s.history.write(30); // the live file: not history
  const files = s.history.files();
  t.diagnostic(`logrotate made: ${files.join(' ')}`);
  assert.ok(files.includes('access.log.1') && files.includes('access.log.2.gz') && files.includes(`access.log.${ROTATIONS}.gz`), files.join(' '));

  const first = await backfill(s);
  t.diagnostic(first.stderr.trim());
  assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
  const messages = await readTopic(s.topic);
  const indexes = messages.map((m) => lineIndexOf(m.value));
  // One partition: Kafka's order is the order shipped. Oldest file first, each file in line order.
  assert.deepEqual(indexes, Array.from({ length: ROTATIONS * 150 }, (_, i) => i));
  assert.equal(new Set(messages.map((m) => m.headers['logship-id'])).size, messages.length, 'record ids are unique');
  assert.match(first.stderr, /files shipped 14, skipped 0 .* failed 0/);

  const second = await backfill(s);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /files shipped 0, skipped 14/);
  assert.equal(await topicSize(s.topic), ROTATIONS * 150, 'the second run shipped nothing');
});

test('backfill reads zstd-compressed history and picks up a plain file that grew since its last run', async (t) => {
  const s = await setup(t);
  writeFileSync(join(s.dir, 'access.log.3.zst'), zstdCompressSync(Buffer.from(combinedLines(0, 100))));
  writeFileSync(join(s.dir, 'access.log.2'), combinedLines(100, 50));
  const first = await backfill(s);
  assert.equal(first.code, 0, first.stderr);
  writeFileSync(join(s.dir, 'access.log.2'), combinedLines(100, 80)); // nginx wrote on until it reopened its log
  const second = await backfill(s);
  assert.equal(second.code, 0, second.stderr);
  const indexes = (await readTopic(s.topic)).map((m) => lineIndexOf(m.value));
  assert.deepEqual(indexes, Array.from({ length: 180 }, (_, i) => i));
});

test('backfill killed with SIGKILL and run again: every line arrives; repeats carry the same record id', async (t) => {
  const s = await setup(t);
  await makeHistory(s.history, 300);
  const total = ROTATIONS * 300;
  const killed = new AgentProcess(['backfill', '--config', s.config, '--path', `${s.history.log}.*`, '--max-rate', '1500']);
  t.after(() => killed.stop('SIGKILL'));
  // Killed in the middle of the history, after some files are done and some lines are checkpointed.
  await waitFor('a third of the history in Kafka', async () => (await topicSize(s.topic)) >= total / 3, 30_000, 50);
  await killed.stop('SIGKILL');
  const before = await topicSize(s.topic);
  const saved = JSON.parse(readFileSync(join(s.stateDir, 'backfill-checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number; size?: number }> };
  t.diagnostic(`killed with ${before}/${total} records in Kafka; ${Object.keys(saved.files).length} files checkpointed`);
  assert.ok(before < total, 'killed before the end');

  const resumed = await backfill(s);
  t.diagnostic(resumed.stderr.trim());
  assert.equal(resumed.code, 0, resumed.stderr);
  const byLine = idsByLine(await readTopic(s.topic));
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !byLine.has(i));
  assert.deepEqual(missing, [], 'no line lost');
  const repeated = [...byLine.entries()].filter(([, ids]) => ids.length > 1);
  t.diagnostic(`${repeated.length} lines repeated (in flight at the kill)`);
  for (const [i, ids] of repeated) assert.equal(new Set(ids).size, 1, `line ${i} repeated with different ids: ${ids.join(' ')}`);
  // At most what was in flight: max_in_flight (5 by default) batches of max_records (200), plus those acked during a checkpoint save.
  assert.ok(repeated.length <= 2 * 5 * 200, `${repeated.length} repeats`);
  assert.equal([...byLine.values()].some((ids) => ids.length > 2), false);
});

test('backfill beside the live agent: what the agent shipped before logrotate compressed the file is not shipped again, and the rest has the agent\'s ids', async (t) => {
  const s = await setup(t);
  const { history } = s;
  // The agent ships lines 0-199 of file A, then is stopped.
  history.write(200);
  const agent = new AgentProcess(['run', '--config', s.config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('the agent to ship 200 lines', async () => (await topicSize(s.topic)) === 200, 30_000, 50);
  assert.deepEqual((await agent.stop('SIGTERM')).code, 0);
  const checkpoints = JSON.parse(readFileSync(join(s.stateDir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  const [keyOfA] = Object.keys(checkpoints.files);
  assert.ok(keyOfA);
  // While it is away: A gets 100 more lines, is rotated, then compressed (delaycompress) at the next rotation; B (50 lines) becomes access.log.1.
  history.write(100);
  await history.rotate();
  history.write(50);
  await history.rotate();
  history.write(50); // C, the new live file
  t.diagnostic(`after the agent stopped: ${history.files().join(' ')}`);

  // The agent comes back: it follows C and, finding A gone, forgets A's checkpoint (kept among the retired ones).
  const back = new AgentProcess(['run', '--config', s.config]);
  t.after(() => back.stop('SIGKILL'));
  await waitFor('the agent to forget the checkpoint of the compressed file', () => back.logs.find((l) => l.key === keyOfA && /checkpoint forgotten|lines lost/.test(l.msg)), 30_000, 50);
  // Saved just after that log line: the forgotten checkpoint is kept as retired.
  await waitFor('the checkpoint of the compressed file among the retired ones', () => {
    const live = JSON.parse(readFileSync(join(s.stateDir, 'checkpoints.json'), 'utf8')) as { files: object };
    const retired = JSON.parse(readFileSync(join(s.stateDir, 'checkpoints-retired.json'), 'utf8')) as { retired: Record<string, { offset: number }> };
    return retired.retired[keyOfA]?.offset === checkpoints.files[keyOfA]!.offset && !(keyOfA in live.files);
  }, 10_000, 20);

  // The backfill runs while the agent runs.
  const result = await backfill(s);
  t.diagnostic(result.stderr.trim());
  assert.equal(result.code, 0, result.stderr);
  await waitFor('400 records in Kafka', async () => (await topicSize(s.topic)) >= 400, 30_000, 50);

  // One more rotation: C, which the agent follows, becomes access.log.1 (the agent reads it to its end: its checkpoint is that promise),
  // B is compressed to access.log.2.gz (done by the first backfill, known by its content), A becomes access.log.3.gz.
  await history.rotate();
  const again = await backfill(s);
  t.diagnostic(again.stderr.trim());
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /files shipped 0, skipped 3/);
  assert.match(again.stdout, /"path":"[^"]*access\.log\.1","why":"followed by the agent"/);
  assert.deepEqual((await back.stop('SIGTERM')).code, 0);

  const messages = await readTopic(s.topic);
  const byLine = idsByLine(messages);
  assert.equal(messages.length, 400, 'nothing twice');
  assert.deepEqual([...byLine.keys()].sort((a, b) => a - b), Array.from({ length: 400 }, (_, i) => i));
  // Lines 200-299 of A come from the backfill, with the ids the agent would have given them.
  for (let i = 200; i < 300; i++) assert.ok(byLine.get(i)![0]!.startsWith(`${keyOfA}:`), `line ${i}: ${byLine.get(i)![0]}`);
  assert.ok(byLine.get(0)![0]!.startsWith(`${keyOfA}:`));
});

test('backfill reports progress: a plain line per file when not on a terminal, a progress bar on one, its own metrics with --metrics-listen', async (t) => {
  const s = await setup(t);
  await makeHistory(s.history, 100);
  const port = await freePort();
  const running = new AgentProcess(['backfill', '--config', s.config, '--path', `${s.history.log}.*`, '--max-rate', '1000', '--metrics-listen', `127.0.0.1:${port}`]);
  t.after(() => running.stop('SIGKILL'));
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const during = await waitFor('backfill metrics with lines read', async () => {
    const text = await scrape();
    return /^logship_backfill_lines_read_total [1-9]/m.test(text) ? text : undefined;
  }, 30_000, 100);
  assert.match(during, /^logship_backfill_files\{state="total"\} 14$/m);
  assert.match(during, /^logship_backfill_bytes \d+$/m);
  const { code } = await running.exited;
  assert.equal(code, 0, running.stderr);
  const lines = running.stderr.split('\n').filter((l) => l.startsWith('backfill: files'));
  t.diagnostic(`plain progress lines: ${lines.length}, last: ${lines.at(-1)}`);
  assert.ok(lines.length >= 5, running.stderr); // at least every few files at 1000 lines/s
  assert.match(lines.at(-1)!, /^backfill: files 14\/14, [\d.]+ KiB\/[\d.]+ KiB, 1400 lines, \d+ lines\/s, ETA \d+s, errors 0$/);
  assert.match(running.stderr, /backfill finished in [\d.]+ s:\n {2}files shipped 14/);

  // On a terminal (script(1) gives it one): the bar, redrawn in place.
  await makeHistory(s.history, 10);
  const tty = await runProcess('script', ['-qec', `${process.execPath} ${CLI} backfill --config ${s.config} --path '${s.history.log}.*' --log-level warn`, '/dev/null'], { timeoutMs: 60_000 });
  assert.equal(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /backfill \[[█░]+\] 100% \| files 14\/14 \|/);
  assert.match(tty.stdout, /\| ETA 0s \| errors 0 \|/);
});

test('Ctrl-C (SIGINT): the lines handed over are acknowledged and checkpointed before it exits; the next run ships the rest, nothing twice', async (t) => {
  const s = await setup(t);
  await makeHistory(s.history, 200);
  const total = ROTATIONS * 200;
  const interrupted = new AgentProcess(['backfill', '--config', s.config, '--path', `${s.history.log}.*`, '--max-rate', '1500']);
  t.after(() => interrupted.stop('SIGKILL'));
  await waitFor('some of the history in Kafka', async () => (await topicSize(s.topic)) >= total / 4, 30_000, 50);
  const { code } = await interrupted.stop('SIGINT');
  assert.equal(code, 1, 'stopped before the end: exit 1');
  assert.match(interrupted.stderr, /backfill stopped; run it again to go on where it stopped/);
  const shippedBefore = await topicSize(s.topic);
  t.diagnostic(`interrupted with ${shippedBefore}/${total} records shipped`);
  const resumed = await backfill(s);
  assert.equal(resumed.code, 0, resumed.stderr);
  const indexes = (await readTopic(s.topic)).map((m) => lineIndexOf(m.value));
  assert.deepEqual(indexes, Array.from({ length: total }, (_, i) => i), 'every line once, in order');
});

test('--since leaves out files last written before the date; a damaged .gz is a per-file error, the other files are shipped', async (t) => {
  const s = await setup(t);
  writeFileSync(join(s.dir, 'access.log.3.gz'), gzipSync(Buffer.from(combinedLines(0, 50))));
  utimesSync(join(s.dir, 'access.log.3.gz'), new Date('2020-01-01'), new Date('2020-01-01'));
  const damaged = gzipSync(Buffer.from(combinedLines(50, 2000)));
  writeFileSync(join(s.dir, 'access.log.2.gz'), damaged.subarray(0, damaged.length - 100)); // cut short, as by a full disk
  writeFileSync(join(s.dir, 'access.log.1'), combinedLines(2050, 50));
  const result = await backfill(s, '--since', '2021-01-01');
  t.diagnostic(result.stderr.trim());
  assert.equal(result.code, 1, 'a file failed: exit 1');
  assert.match(result.stderr, /files shipped 1, skipped 0 .* failed 1/);
  assert.match(result.stdout, /access\.log\.2\.gz failed: unexpected end of file/);
  const indexes = new Set((await readTopic(s.topic)).map((m) => lineIndexOf(m.value)));
  assert.equal(indexes.has(10), false, 'the file older than --since is left out');
  assert.ok(indexes.has(2099), 'the file after the damaged one is shipped');
  assert.ok(indexes.has(50), 'what could be read of the damaged file is shipped');
});
