/**
 * Backfill throughput on gzip history (`npm run bench:backfill`):
 * `logship backfill` as installed (bin/logship.js, its shebang's Node
 * flags) over rotated, gzip-compressed `combined` logs, as logrotate's
 * `compress` leaves them, into Kafka. Numbers only; nothing asserts them.
 *
 *   node bench/backfill.ts [--lines 1000000] [--files 10] [--format combined] [--runs 2]
 *
 * Per run, a fresh topic and state_dir: wall time from spawn to exit (Node
 * start-up, reading, decompressing, parsing, every record acknowledged by
 * Kafka, checkpoints saved); lines/s over that; CPU-seconds (user + sys,
 * from /usr/bin/time) per million lines; peak RSS. The topic's size is
 * checked against the lines written. Uses KAFKA_BROKERS or starts the
 * local Kafka.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { AGENT_BIN, agentNodeFlags } from '../scripts/agent-launch.ts';
import { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import { writeConfig } from '../test/support/agent.ts';
import { createTopicNamed, topicSize } from '../test/support/kafka.ts';
import { generateLines } from './generate-lines.ts';
import { cpuCount, cpuModel, loadAverage } from './proc-stats.ts';
import { runBench } from './run-bench.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    files: { type: 'string', default: '10' },
    format: { type: 'string', default: 'combined' },
    runs: { type: 'string', default: '2' },
  },
});
const LINES = Number(values.lines);
const FILES = Number(values.files);
const RUNS = Number(values.runs);

let kafka: LocalKafka | undefined;
let dir: string | undefined;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

interface Timed {
  code: number | null;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssKiB: number;
  stderr: string;
}

/** Runs a command under /usr/bin/time: its wall time, user + sys CPU and peak RSS. */
function timed(command: string, args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'TIMED %U %S %M', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const m = /TIMED ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (!m) return reject(new Error(`no figures from /usr/bin/time: ${stderr.slice(-500)}`));
      resolve({ code, wallSeconds, cpuSeconds: Number(m[1]) + Number(m[2]), peakRssKiB: Number(m[3]), stderr });
    });
  });
}

async function main(): Promise<void> {
  const say = (text: string) => process.stdout.write(`[bench:backfill] ${text}\n`);
  say(`${int(LINES)} ${values.format} lines in ${FILES} .gz files, ${RUNS} runs; node ${process.version}; ${cpuCount()} CPUs (${cpuModel()}); load ${loadAverage()}`);
  say('building dist/ (npm run build) for bin/logship.js');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'logship-bench-backfill-'));
  const history = join(dir, 'history');
  execFileSync('mkdir', ['-p', history]);
  // access.log.<FILES>.gz is the oldest, as logrotate numbers them; gzip level 6 is gzip's (and logrotate's) default.
  const lines = generateLines({ format: values.format!, count: LINES });
  let compressed = 0;
  let plain = 0;
  for (let f = FILES; f >= 1; f--) {
    const chunk: string[] = [];
    const count = Math.floor(LINES / FILES) + (f === 1 ? LINES % FILES : 0);
    for (let i = 0; i < count; i++) chunk.push(lines.next().value!);
    const text = Buffer.from(chunk.join('\n') + '\n');
    const gz = gzipSync(text, { level: 6 });
    writeFileSync(join(history, `access.log.${f}.gz`), gz);
    plain += text.length;
    compressed += gz.length;
  }
  say(`history: ${mib(plain)} of lines, ${mib(compressed)} gzipped`);
  let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (!brokers) {
    kafka = new LocalKafka();
    brokers = await kafka.start();
  }
  for (let run = 1; run <= RUNS; run++) {
    const topic = `bench-backfill-${Date.now()}`;
    await createTopicNamed(topic, brokers);
    const runDir = join(dir, `run-${run}`);
    execFileSync('mkdir', ['-p', runDir]);
    const config = writeConfig(runDir, {
      inputs: [{ name: 'nginx', paths: [join(history, 'access.log')], format: values.format }],
      kafka: { brokers, topic },
      state_dir: join(runDir, 'state'),
      metrics: { enabled: false },
      log_level: 'warn',
    });
    const result = await timed(process.execPath, [...agentNodeFlags(), AGENT_BIN, 'backfill', '--config', config, '--path', join(history, 'access.log.*.gz')]);
    if (result.code !== 0) throw new Error(`backfill exited ${result.code}: ${result.stderr.slice(-2000)}`);
    const shipped = await topicSize(topic, brokers);
    if (shipped !== LINES) throw new Error(`topic ${topic} holds ${shipped} records, not ${LINES}`);
    say(
      `run ${run}: ${int(LINES / result.wallSeconds)} lines/s (${result.wallSeconds.toFixed(2)} s from spawn to exit, every record acked), ` +
        `${(result.cpuSeconds / (LINES / 1e6)).toFixed(2)} CPU-s per million lines (${result.cpuSeconds.toFixed(2)} s user + sys), peak RSS ${int(result.peakRssKiB / 1024)} MiB`,
    );
  }
  say(`load at the end ${loadAverage()}`);
}

await runBench(
  main,
  () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
  () => kafka,
);
