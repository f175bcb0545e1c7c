/**
 * The end-to-end throughput run of bench/e2e.ts pointed at the other
 * outputs: the same generated file, the same installed agent with default
 * settings, against a local RabbitMQ or Redis (scripts/outputs/) started
 * for the run and stopped after it.
 *
 * - RabbitMQ: a durable topic exchange and a lazy durable queue bound to it
 *   with '#' (messages go to disk, not RAM), declared by the bench. End =
 *   when the queue holds N messages, polled every 20 ms (error ≤ 20 ms).
 * - Redis: one stream, MAXLEN ~ 100000 so that memory stays small; the
 *   count is XINFO STREAM's entries-added; end = the millisecond part of
 *   the last entry's id (the server's clock when it appended it).
 *
 * Start = the `time` of the agent's `following file` line, as for Kafka;
 * CPU and peak RSS from /proc as for Kafka.
 */
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { LocalRabbitmq } from '../scripts/outputs/local-rabbitmq.ts';
import { LocalRedis } from '../scripts/outputs/local-redis.ts';
import { InstalledAgent } from './installed-agent.ts';
import { cpuSeconds, cpuTimes, memory } from './proc-stats.ts';

export type BenchOutput = 'rabbitmq' | 'redis';

export interface OutputRunResult {
  output: BenchOutput;
  server: string;
  lines: number;
  seconds: number;
  linesPerSecond: number;
  cpuPerMillion: number;
  peakRss: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server for the run, how the agent reaches it, how many records it holds and when the last one came. */
interface Target {
  server: string;
  output: Record<string, unknown>;
  /** Records acknowledged so far. */
  count(): Promise<number>;
  /** When the last record was taken, epoch ms (undefined: the poll that saw the count). */
  lastAt(): Promise<number | undefined>;
  close(): Promise<void>;
}

async function rabbitmqTarget(): Promise<Target> {
  const broker = new LocalRabbitmq();
  await broker.start();
  const model = await connect(broker.url);
  const channel = await model.createChannel();
  await channel.assertExchange('bench', 'topic', { durable: true });
  await channel.assertQueue('bench', { durable: true, arguments: { 'x-queue-mode': 'lazy' } });
  await channel.bindQueue('bench', 'bench', '#');
  const version = String(model.connection.serverProperties.version ?? '');
  return {
    server: `RabbitMQ ${version}, one lazy durable queue`,
    output: { type: 'rabbitmq', rabbitmq: { url: broker.url, exchange: 'bench', routing_key: 'nginx' } },
    count: async () => (await channel.checkQueue('bench')).messageCount,
    lastAt: () => Promise.resolve(undefined),
    close: async () => {
      await model.close().catch(() => undefined);
      await broker.close();
    },
  };
}

async function redisTarget(): Promise<Target> {
  const server = new LocalRedis({ durable: false });
  await server.start();
  const client = new Redis(server.url);
  const info = await client.info('server');
  const version = /^redis_version:(.*)$/m.exec(info)?.[1]?.trim() ?? '';
  const added = async () => {
    const fields = (await client.call('XINFO', ['STREAM', 'bench']).catch(() => [])) as unknown[];
    const at = fields.indexOf('entries-added');
    return at === -1 ? 0 : Number(fields[at + 1]);
  };
  return {
    server: `Redis ${version}, one stream, MAXLEN ~ 100000, no persistence`,
    output: { type: 'redis', redis: { url: server.url, stream: 'bench', maxlen: 100_000 } },
    count: added,
    lastAt: async () => {
      const last = await client.xrevrange('bench', '+', '-', 'COUNT', 1);
      return last[0] ? Number(last[0][0].split('-')[0]) : undefined;
    },
    close: async () => {
      client.disconnect();
      await server.close();
    },
  };
}

/** One run: the agent reads `file` (`lines` lines of `format`) and ships it to `output`. */
export async function outputThroughputRun(output: BenchOutput, format: string, file: string, lines: number, agentFlags: string[], track: (agent: InstalledAgent) => void): Promise<OutputRunResult> {
  const target = output === 'rabbitmq' ? await rabbitmqTarget() : await redisTarget();
  const dir = mkdtempSync(join(tmpdir(), `logship-bench-${output}-`));
  const logPath = join(dir, 'access.log');
  const config = join(dir, 'logship.yaml');
  writeFileSync(config, stringify({ inputs: [{ name: 'bench', paths: [logPath], format }], output: target.output, state_dir: join(dir, 'state') }));
  const agent = new InstalledAgent(config, agentFlags);
  track(agent);
  try {
    await agent.waitForLog('logship running');
    await agent.waitForLog(`connected to ${output === 'rabbitmq' ? 'RabbitMQ' : 'Redis'}`);
    await sleep(1000);
    const cpuIdle = cpuTimes(agent.pid);
    linkSync(file, logPath);
    const following = await agent.waitForLog('following file', 30_000);
    const deadline = Date.now() + 15 * 60_000;
    let count = 0;
    let seenAt = 0;
    while (count < lines) {
      if (!agent.running) throw new Error(`agent exited during the run: ${agent.stderr.slice(-1000)}`);
      if (Date.now() > deadline) throw new Error(`only ${count} of ${lines} records acknowledged after 15 minutes`);
      await sleep(20);
      count = await target.count();
      seenAt = Date.now();
    }
    const cpuDone = cpuTimes(agent.pid);
    const mem = memory(agent.pid);
    const end = (await target.lastAt()) ?? seenAt;
    const code = await agent.stop();
    if (code !== 0) throw new Error(`agent exited with ${code}: ${agent.stderr.slice(-1000)}`);
    if (count !== lines) throw new Error(`expected ${lines} records, the ${output} output holds ${count}`);
    const seconds = (end - Number(following.time)) / 1000;
    const cpu = cpuSeconds(cpuDone) - cpuSeconds(cpuIdle);
    return { output, server: target.server, lines, seconds, linesPerSecond: lines / seconds, cpuPerMillion: (cpu / lines) * 1e6, peakRss: mem.peakRss };
  } finally {
    if (agent.running) agent.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await target.close();
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The outputs beside Kafka, on the same lines of the same format. */
export function outputTable(kafka: { format: string; linesPerSecond: number; seconds: number; cpuPerMillion: number; peakRss: number } | undefined, runs: readonly OutputRunResult[]): string {
  if (runs.length === 0) return '';
  const rows = ['| output, same lines | end to end | agent CPU per million lines | agent peak RSS | server |', '|---|---:|---:|---:|---|'];
  if (kafka) rows.push(`| Kafka | ${int(kafka.linesPerSecond)} lines/s (${kafka.seconds.toFixed(2)} s) | ${kafka.cpuPerMillion.toFixed(2)} s | ${int(kafka.peakRss / 2 ** 20)} MiB | (above) |`);
  for (const r of runs) rows.push(`| ${r.output === 'rabbitmq' ? 'RabbitMQ' : 'Redis Streams'} | ${int(r.linesPerSecond)} lines/s (${r.seconds.toFixed(2)} s) | ${r.cpuPerMillion.toFixed(2)} s | ${int(r.peakRss / 2 ** 20)} MiB | ${r.server} |`);
  return [`Other outputs (\`output.type\`), ${int(runs[0]!.lines)} \`${kafka?.format ?? ''}\` lines, default settings, measured as for Kafka:`, '', ...rows].join('\n');
}
