/**
 * `logship spool stats|verify|replay` as a process, on real spool directories.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CLI, tempDir, writeConfig } from '../support/agent.ts';
import { runProcess, type ProcessResult } from '../support/run-process.ts';
import { Spool } from '../../src/spool/index.ts';
import { HEADER_BYTES } from '../../src/spool/format.ts';
import { batch, captureLogger, options } from './helpers.ts';

const HARNESS = fileURLToPath(new URL('./cli-harness.ts', import.meta.url));
/** main.ts once it registers the spool command; the harness until then. */
const ENTRY = readFileSync(CLI, 'utf8').includes('spoolCommand') ? CLI : HARNESS;

function logship(...args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [ENTRY, ...args], { timeoutMs: 60_000 });
}

/** A closed spool with `count` entries of 10 records, the first `acked` of them acked. */
async function makeSpool(dir: string, count: number, acked = 0, topic = 'access'): Promise<void> {
  const spool = await Spool.open(options(dir), captureLogger().log);
  for (let b = 0; b < count; b++) await spool.append(batch(b * 10, 10, [topic]), 10);
  for (let i = 0; i < acked; i++) await spool.ack((await spool.next())!);
  await spool.close();
}

test('spool stats: entries, records, bytes, segments and oldest age; --json for machines', async (t) => {
  const dir = join(tempDir(t), 'spool');
  await makeSpool(dir, 12, 2);
  const human = await logship('spool', 'stats', '--dir', dir);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /entries\s+10 \(100 records\) to replay/);
  assert.match(human.stdout, /on disk in 1 segment/);
  assert.match(human.stdout, /oldest\s+\d+(ms|s|m|h|d) \(20\d\d-/);

  const json = await logship('spool', 'stats', '--dir', dir, '--json');
  assert.equal(json.code, 0, json.stderr);
  const stats = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(stats.entries, 10);
  assert.equal(stats.records, 100);
  assert.equal(stats.segments, 1);
  assert.equal(stats.corrupt_entries, 0);
  assert.equal(typeof stats.oldest_age_ms, 'number');
  assert.ok((stats.bytes as number) > 0 && (stats.bytes as number) < (stats.disk_bytes as number));
});

test('spool verify: exit 0 when clean, 1 with the segment and offset of a flipped byte, 2 on usage errors', async (t) => {
  const dir = join(tempDir(t), 'spool');
  await makeSpool(dir, 5);
  const clean = await logship('spool', 'verify', '--dir', dir);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /ok: 5 entries in 1 segments, every CRC matches/);

  const seg = (await import('node:fs')).readdirSync(dir).find((n) => n.endsWith('.seg'))!;
  const path = join(dir, seg);
  const bytes = readFileSync(path);
  const second = HEADER_BYTES + bytes.readUInt32LE(8); // offset of entry 2
  bytes[second + HEADER_BYTES + 3]! ^= 0x20;
  writeFileSync(path, bytes);
  const bad = await logship('spool', 'verify', '--dir', dir);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stdout, new RegExp(`${seg} .*1 CORRUPT`));
  assert.match(bad.stdout, new RegExp(`corrupt at offset ${second}: \\d+ bytes, entry seq 2: payload CRC mismatch`));
  const json = await logship('spool', 'verify', '--dir', dir, '--json');
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { corruptEntries: number }).corruptEntries, 1);

  assert.equal((await logship('spool', 'verify')).code, 2, 'no --dir');
  const missing = await logship('spool', 'stats', '--dir', join(dir, 'nope'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no spool directory/);
  assert.equal((await logship('spool')).code, 2, 'no subcommand');
});

test('spool replay refuses a spool held by a running process', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'spool');
  await makeSpool(dir, 2);
  const held = await Spool.open(options(dir), captureLogger().log);
  t.after(() => held.close());
  const config = writeConfig(root, { inputs: [{ paths: ['/tmp/none.log'], format: 'combined' }], kafka: { brokers: ['127.0.0.1:1'], topic: 't' }, state_dir: root, log_level: 'silent' });
  const result = await logship('spool', 'replay', '--config', config, '--dir', dir);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`in use by process ${process.pid}`));
});

test('spool replay drains to Kafka in order and empties the spool (real broker)', { skip: !process.env.KAFKA_BROKERS && 'needs KAFKA_BROKERS (npm test starts a broker)' }, async (t) => {
  const { createTopic, readTopic, testBrokers } = await import('../support/kafka.ts');
  const root = tempDir(t);
  const topic = await createTopic('spool-replay');
  // Default spool location: <state_dir>/spool.
  const dir = join(root, 'state', 'spool');
  await makeSpool(dir, 40, 5, topic);
  const config = writeConfig(root, { inputs: [{ paths: ['/tmp/none.log'], format: 'combined' }], kafka: { brokers: testBrokers(), topic }, state_dir: join(root, 'state'), log_level: 'warn' });
  const result = await logship('spool', 'replay', '--config', config);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /replayed 35 entries \(350 records\); the spool is empty/);
  const messages = await readTopic(topic);
  assert.deepEqual(messages.map((m) => (JSON.parse(m.value) as { n: number }).n), Array.from({ length: 350 }, (_, i) => 50 + i));
  assert.equal(messages[0]!.headers['logship-id'], 'file-1:5000');
  const after = JSON.parse((await logship('spool', 'stats', '--dir', dir, '--json')).stdout) as { entries: number; segments: number };
  assert.deepEqual([after.entries, after.segments], [0, 0]);
  const again = await logship('spool', 'replay', '--config', config);
  assert.equal(again.code, 0);
  assert.match(again.stderr, /empty: nothing to replay/);
});
