/**
 * The first minute with logship: starts a local Kafka, writes a live
 * nginx-style access log, runs the agent on it (flags only, no config
 * file), and shows the records arriving in Kafka and the rate.
 *
 *   scripts/demo [--seconds 20] [--rate 2000]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { LocalKafka } from './kafka/local-kafka.ts';
import { generateLines } from '../bench/generate-lines.ts';
import { onJsonLines } from '../test/support/json-lines.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, rate: { type: 'string', default: '2000' } },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const say = (text: string) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${text}\n`);

const dir = mkdtempSync(join(tmpdir(), 'logship-demo-'));
const log = join(dir, 'access.log');
const topic = 'nginx-demo';
let kafka: LocalKafka | undefined;
let brokers = process.env.KAFKA_BROKERS?.split(',');
if (!brokers) {
  say('starting a local Apache Kafka (KRaft, single node)...');
  kafka = new LocalKafka();
  brokers = await kafka.start();
}
say(`Kafka at ${brokers.join(',')}; live access log at ${log}`);

// The live log: a realistic nginx `combined` line stream at `rate` lines/s.
const fd = openSync(log, 'a');
const lines = generateLines({ format: 'combined', count: Infinity, seed: 42, startMs: Date.now() });
let written = 0;
const writer = setInterval(() => {
  const n = Math.round(rate / 10);
  let chunk = '';
  for (let i = 0; i < n; i++) chunk += lines.next().value + '\n';
  writeSync(fd, chunk);
  written += n;
}, 100);

const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const args = ['run', '--path', log, '--format', 'combined', '--brokers', brokers.join(','), '--topic', topic, '--state-dir', join(dir, 'state')];
say(`running: logship ${args.join(' ')}`);
const agent = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
// Whatever ends the demo, the agent goes with it (the broker JVM stops by itself when we exit).
process.on('exit', () => agent.kill('SIGKILL'));
onJsonLines(agent.stdout, (line) => {
  if (typeof line === 'string') say(`agent: ${line}`);
  else say(`agent: ${String(line.msg)}${line.path ? ` ${String(line.path)}` : ''}`);
});

// What arrives, read back with a Kafka consumer. The topic is created first so the consumer can subscribe.
const client = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const admin = client.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
await admin.disconnect();
const consumer = client.consumer({ groupId: `demo-${process.pid}` });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let arrived = 0;
let firstAt = 0;
await consumer.run({
  eachMessage: async ({ message }) => {
    if (arrived === 0) firstAt = Date.now();
    arrived++;
    if (arrived <= 2) say(`record ${arrived} in Kafka:\n${JSON.stringify(JSON.parse(message.value!.toString()), null, 2)}`);
  },
});

let last = 0;
const ticker = setInterval(() => {
  say(`written ${written} lines, ${arrived} records in Kafka (+${arrived - last}/s)`);
  last = arrived;
}, 1000);

let finishing = false;
async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  clearInterval(writer);
  closeSync(fd);
  const deadline = Date.now() + 15_000;
  while (arrived < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  clearInterval(ticker);
  agent.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => agent.once('exit', resolve));
  await consumer.disconnect();
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
  const secs = (Date.now() - firstAt) / 1000;
  say(`done: ${written} lines written, ${arrived} records arrived in Kafka (${Math.round(arrived / secs)} records/s); agent exited with ${code}`);
  process.exit(arrived === written && code === 0 ? 0 : 1);
}
process.on('SIGINT', () => void finish());
process.on('SIGTERM', () => void finish());
setTimeout(() => void finish(), seconds * 1000);
