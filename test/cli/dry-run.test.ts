/**
 * `logship run --dry-run`: the messages a real run sends to Kafka, printed
 * on stdout instead (logs on stderr), with no broker and nothing written
 * to state_dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, CLI, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine, combinedLines } from '../support/combined-lines.ts';
import { createTopic, readTopic, testBrokers } from '../support/kafka.ts';
import { runProcess } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';

interface Printed {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: string;
}

const printed = (stdout: string): Printed[] => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Printed);

test('--dry-run --once prints exactly the messages a real run sends to Kafka, and leaves state_dir alone', async (t) => {
  const dir = tempDir(t);
  const topic = await createTopic('dry-run');
  const log = join(dir, 'access.log');
  // A line that does not parse goes to the dead-letter topic; the last line has no newline yet.
  writeFileSync(log, combinedLines(0, 20) + 'not a line of the format\n' + combinedLines(20, 9) + combinedLine(29));
  const kafka = { brokers: testBrokers(), topic, key: '{{ remote_addr }}', dead_letter_topic: `${topic}-dead` };
  const config = writeConfig(dir, { inputs: [{ paths: [log], format: 'combined', partial_line_flush_ms: 200 }], kafka, batch: { linger_ms: 20 }, state_dir: join(dir, 'state') });

  const dry = await runProcess(process.execPath, [CLI, 'run', '--dry-run', '--once', '--config', config], { timeoutMs: 60_000 });
  console.log(`dry run: exit ${dry.code} in ${dry.ms} ms, ${dry.stdout.split('\n').length - 1} lines on stdout`);
  assert.equal(dry.code, 0, dry.stderr);
  const messages = printed(dry.stdout); // every stdout line is a message: the log is on stderr
  assert.equal(messages.length, 31);
  assert.ok(dry.stderr.split('\n').some((l) => l.includes('"dry_run":true')), 'the log goes to stderr');
  assert.ok(!existsSync(join(dir, 'state')), 'nothing is written to state_dir');

  // The same configuration, run for real: what Kafka gets is what the dry run printed.
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await waitFor('partial line flushed and everything acked', async () => (await readTopic(topic)).length === 30 && (await readTopic(kafka.dead_letter_topic)).length === 1);
  await agent.stop();
  const shipped = [...(await readTopic(topic)).map((m) => ({ topic, ...m })), ...(await readTopic(kafka.dead_letter_topic)).map((m) => ({ topic: kafka.dead_letter_topic, ...m }))];
  const byId = (list: Printed[]) => [...list].sort((a, b) => a.headers['logship-id']!.localeCompare(b.headers['logship-id']!));
  assert.deepEqual(byId(messages), byId(shipped));
  assert.equal(messages[0]!.key, '10.0.0.0');
});

test('--dry-run reads from the beginning whatever the checkpoints say, writes none, and needs no broker', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 5));
  const state = join(dir, 'state');
  // A real run shipped the whole file: its checkpoint is at the end.
  mkdirSync(state);
  const args = ['--path', log, '--format', 'combined', '--topic', 'nginx', '--state-dir', state];
  const real = new AgentProcess(['run', ...args, '--brokers', testBrokers().join(','), '--metrics-listen', '127.0.0.1:0']);
  t.after(() => real.stop('SIGKILL'));
  await waitFor('checkpoint at the end of the file', () => readFileSync(join(state, 'checkpoints.json'), 'utf8').includes(`"offset":${combinedLines(0, 5).length}`));
  assert.equal((await real.stop()).code, 0);
  const checkpoints = readFileSync(join(state, 'checkpoints.json'), 'utf8');

  // No --brokers: flags alone need only what a dry run uses.
  const dry = await runProcess(process.execPath, [CLI, 'run', '--dry-run', '--once', ...args], { timeoutMs: 60_000 });
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(
    printed(dry.stdout).map((m) => JSON.parse(m.value).request_path),
    [0, 1, 2, 3, 4].map((i) => `/item/${i}`),
  );
  assert.equal(readFileSync(join(state, 'checkpoints.json'), 'utf8'), checkpoints, 'checkpoints untouched');
});

test('--dry-run without --once follows the file as it grows until stopped', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 2));
  const child = spawn(process.execPath, [CLI, 'run', '--dry-run', '--path', log, '--format', 'combined', '--topic', 'nginx'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor('the first two lines printed', () => printed(stdout).length === 2);
  appendFileSync(log, combinedLines(2, 3));
  await waitFor('lines appended later printed', () => printed(stdout).length === 5);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('--once without --dry-run is a usage error', async () => {
  const result = await runProcess(process.execPath, [CLI, 'run', '--once', '--path', '/tmp/x.log', '--format', 'combined', '--brokers', 'k:9092', '--topic', 't']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /dry-run/);
});

test('--dry-run piped into a reader that quits (| head -1) ends quietly with 0', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 50_000));
  const child = spawn(process.execPath, [CLI, 'run', '--dry-run', '--path', log, '--format', 'combined', '--topic', 'nginx'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.stdout.destroy();
  assert.equal(await exited, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});
