import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { runProcess, type ProcessResult } from '../support/run-process.ts';

const BIN = fileURLToPath(new URL('../../bin/logship.js', import.meta.url));
function logship(...args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args]);
}

test('the bin entry runs: version and --help', async () => {
  const version = await logship('version');
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^logship \d+\.\d+\.\d+ \(node 24\./);
  const help = await logship('run', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--config/);
  assert.match(help.stdout, /--brokers/);
});

test('a bad configuration exits 2 and names the file and the setting', async (t) => {
  const file = join(tempDir(t), 'bad.yaml');
  writeFileSync(file, 'inputs:\n  - paths: [/tmp/x.log]\n    format: combined\nkafka:\n  brokers: [k:9092]\n  topic: t\n  acks: most\n');
  const result = await logship('run', '--config', file);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /bad\.yaml/);
  assert.match(result.stderr, /kafka\.acks: must be one of "all", 1, 0 \(got "most"\)/);
});

test('an unknown log format exits 2 and names the input', async (t) => {
  const dir = tempDir(t);
  const result = await logship('run', '--path', join(dir, '*.log'), '--format', 'no-such-preset', '--brokers', '127.0.0.1:1', '--topic', 't', '--state-dir', dir);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /inputs\[0\]/);
  assert.match(result.stderr, /no-such-preset/);
});

test('run without a config or a path is a usage error', async () => {
  const result = await logship('run');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--config/);
});

test('check says what will not work and exits 1; a bad config exits 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'x\n');
  const result = await logship('check', '--path', join(dir, '*.log'), '--format', 'combined', '--brokers', '127.0.0.1:1', '--topic', 't');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /✔ input input-0: log format compiles/);
  assert.match(result.stdout, /✔ input input-0: 1 file\(s\) match, all readable/);
  assert.match(result.stdout, /✘ kafka 127\.0\.0\.1:1: cannot reach Kafka/);
  assert.match(result.stdout, /verdict: 1 problem\(s\)/);
  const bad = await logship('check', '--path', join(dir, '*.log'), '--format', 'combined', '--brokers', 'nope', '--topic', 't');
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /kafka\.brokers\[0\]/);
});
