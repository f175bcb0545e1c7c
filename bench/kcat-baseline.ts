/**
 * What a native client does on the same machine and broker: kcat
 * (librdkafka) produces the agent's own record JSON, already encoded one
 * per line, with the host and path headers, acks=all. No tailing, no
 * parsing: the floor for shipping these records, to read the agent's
 * figures against. `npm run bench:kcat [-- --lines N --runs R]`; uses
 * KAFKA_BROKERS or starts the local Kafka. Numbers only; nothing asserts them.
 * `npm run bench` runs it too, before the agent: it also warms the broker.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import { recordJson, sourceOf } from '../src/encode/record-json.ts';
import { compileLogFormat, ParseError, resolveFormat } from '../src/parse/index.ts';
import { generateLines } from './generate-lines.ts';
import { cpuSeconds, cpuTimes, findPid, loadAverage } from './proc-stats.ts';

export interface KcatResult {
  recordsPerSecond: number;
  seconds: number;
  cpuPerMillion: number;
  peakRssMiB: number;
  brokerCpuPerMillion: number | undefined;
}

/** Writes `lines` generated records of `format` as the agent's record JSON, one per line. */
async function writeRecords(file: string, format: string, lines: number): Promise<{ host: string; path: string }> {
  const parser = compileLogFormat(resolveFormat({ format }));
  const source = sourceOf('bench-host', '/var/log/nginx/access.log', 'bench');
  const sourceJson = JSON.stringify(source);
  const out = createWriteStream(file);
  for (const line of generateLines({ format, count: lines, seed: 7 })) {
    const record = parser.parse(line);
    if (record instanceof ParseError) throw new Error(`generated line did not parse: ${record.reason}`);
    if (!out.write(`${recordJson(record, sourceJson)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return { host: source.host!, path: source.path! };
}

/** One kcat run: every line of `file` to a new topic; checks that all `lines` records landed. */
async function kcatRun(admin: Admin, brokers: string[], brokerPid: number | undefined, file: string, lines: number, headers: { host: string; path: string }): Promise<KcatResult> {
  const topic = `bench-kcat-${Date.now()}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  try {
    const broker0 = brokerPid ? cpuSeconds(cpuTimes(brokerPid)) : 0;
    const started = process.hrtime.bigint();
    const kcat = spawnSync(
      '/usr/bin/time',
      ['-f', '%U %S %M', 'kcat', '-P', '-b', brokers.join(','), '-t', topic, '-l', '-X', 'acks=all', '-H', `logship-host=${headers.host}`, '-H', `logship-path=${headers.path}`, file],
      { encoding: 'utf8' },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (kcat.status !== 0) throw new Error(`kcat failed (${kcat.status}): ${kcat.stderr}`);
    const broker = brokerPid ? cpuSeconds(cpuTimes(brokerPid)) - broker0 : undefined;
    const [user, sys, maxRssKiB] = kcat.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
    const acked = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    if (acked !== lines) throw new Error(`expected ${lines} records in ${topic}, found ${acked}`);
    return {
      recordsPerSecond: lines / seconds,
      seconds,
      cpuPerMillion: ((user + sys) / lines) * 1e6,
      peakRssMiB: maxRssKiB / 1024,
      brokerCpuPerMillion: broker === undefined ? undefined : (broker / lines) * 1e6,
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
}

/**
 * `runs` kcat runs of `lines` generated `format` records (written to a
 * file in `dir`, removed after). The first run also warms the broker's
 * JIT: read the later ones.
 */
export async function kcatBaseline(admin: Admin, brokers: string[], brokerPid: number | undefined, dir: string, format: string, lines: number, runs: number): Promise<KcatResult[]> {
  const file = join(dir, 'records.ndjson');
  try {
    const headers = await writeRecords(file, format, lines);
    const results: KcatResult[] = [];
    for (let run = 0; run < runs; run++) results.push(await kcatRun(admin, brokers, brokerPid, file, lines, headers));
    return results;
  } finally {
    rmSync(file, { force: true });
  }
}

export function describeKcat(r: KcatResult): string {
  return (
    `${Math.round(r.recordsPerSecond).toLocaleString('en-US')} records/s (${r.seconds.toFixed(2)} s), ` +
    `kcat ${r.cpuPerMillion.toFixed(2)} CPU-s per M records, peak RSS ${r.peakRssMiB.toFixed(0)} MiB` +
    (r.brokerCpuPerMillion === undefined ? '' : `, broker ${r.brokerCpuPerMillion.toFixed(2)} CPU-s per M records`)
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, format: { type: 'string', default: 'combined' } } });
  const lines = Number(values.lines);
  const dir = mkdtempSync(join(tmpdir(), 'logship-kcat-'));
  let kafka: LocalKafka | undefined;
  try {
    let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
    if (!brokers) {
      kafka = new LocalKafka();
      brokers = await kafka.start();
    }
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const brokerPid = kafka ? findPid(join(kafka.dir, 'server.properties')) : undefined;
    console.log(`kcat baseline: ${lines.toLocaleString('en-US')} ${values.format} records, acks=all, load ${loadAverage()} (run 1 also warms the broker)`);
    const results = await kcatBaseline(admin, brokers, brokerPid, dir, values.format, lines, Number(values.runs));
    results.forEach((result, i) => console.log(`run ${i + 1}: ${describeKcat(result)}`));
    await admin.disconnect();
  } finally {
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();

