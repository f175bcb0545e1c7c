/**
 * An idle agent (`npm run bench:idle`): what the agent as installed costs
 * while nothing is written, fresh and after a busy spell. Default settings,
 * one input following one existing file, connected to Kafka, metrics on
 * (on a free port, so it runs beside other agents). Numbers only.
 *
 *   node bench/idle.ts [--lines 1000000] [--seconds 30] [--settle 10]
 *                      [--agent-flags="--max-semi-space-size=4"]
 *
 * Environment variables reach the agent (e.g. MALLOC_ARENA_MAX=2 npm run bench:idle).
 *
 * - idle, fresh: the file's first lines are acked and checkpointed, then
 *   --settle s pass (the tailer's check backs off from 250 ms to 5 s over
 *   about 8 s), then CPU over a --seconds window and RSS at its end. CPU is
 *   the scheduler's clock (schedstat, ns; exact), with utime + stime (10 ms
 *   ticks, what `top` and the other benches show) beside it.
 * - busy: --lines lines appended to the file at full speed (a pre-generated
 *   file copied in); done when Kafka's high watermark has them all. Peak RSS
 *   (VmHWM) then.
 * - idle after busy: once the checkpoint is at the file's end, the same
 *   settle and window: CPU, and RSS at its end.
 *
 * Uses KAFKA_BROKERS or starts a local Kafka.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import { runBench } from './run-bench.ts';
import { agentNodeFlags } from '../scripts/agent-launch.ts';
import { writeConfig } from '../test/support/agent.ts';
import { createTopicNamed, topicSize } from '../test/support/kafka.ts';
import { waitFor } from '../test/support/wait.ts';
import { generateLines } from './generate-lines.ts';
import { InstalledAgent } from './installed-agent.ts';
import { cpuByThread, cpuByThreadSince } from './proc-detail.ts';
import { cpuSeconds, cpuTimes, loadAverage, memory, schedCpuSeconds } from './proc-stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const INITIAL_LINES = 1000;

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Writes `count` combined lines to `file`, 20,000 lines a write; returns its size. */
function generateFile(file: string, count: number, seed: number): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  let chunk: string[] = [];
  for (const line of generateLines({ format: 'combined', count, seed })) {
    chunk.push(line);
    if (chunk.length === 20_000) {
      bytes += writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) bytes += writeSync(fd, chunk.join('\n') + '\n');
  closeSync(fd);
  return bytes;
}

interface Window {
  /** CPU-s by the scheduler's clock (exact). */
  cpu: number;
  /** CPU-s by /proc ticks (10 ms each), per thread name. */
  ticks: number;
  threads: string;
  rss: number;
  anon: number;
  file: number;
  load: string;
}

/** CPU of the agent over `seconds` of nothing happening, per thread name, and RSS at the end. */
async function idleWindow(agent: InstalledAgent, seconds: number): Promise<Window> {
  const threads0 = cpuByThread(agent.pid);
  const ticks0 = cpuSeconds(cpuTimes(agent.pid));
  const cpu0 = schedCpuSeconds(agent.pid);
  await sleep(seconds * 1000);
  const cpu = schedCpuSeconds(agent.pid) - cpu0;
  const ticks = cpuSeconds(cpuTimes(agent.pid)) - ticks0;
  const threads = [...cpuByThreadSince(threads0, cpuByThread(agent.pid))]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)}`)
    .join(', ');
  const { rss, anon, file } = memory(agent.pid);
  return { cpu, ticks, threads: threads || 'none', rss, anon, file, load: loadAverage() };
}

/** The agent's checkpoint of `path` is at `size`: everything read was acked and saved. */
function checkpointAt(stateDir: string, path: string, size: number): boolean {
  try {
    const saved = JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
    return Object.values(saved.files).some((c) => c.path === path && c.offset === size);
  } catch {
    return false; // not written yet
  }
}

let agent: InstalledAgent | undefined;
let kafka: LocalKafka | undefined;
let dir: string | undefined;

function cleanUpSync(): void {
  agent?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '30' },
      settle: { type: 'string', default: '10' },
      'agent-flags': { type: 'string', default: '' },
    },
  });
  const lines = Number(values.lines);
  const seconds = Number(values.seconds);
  const settle = Number(values.settle);
  const started = Date.now();
  const say = (text: string) => process.stdout.write(`[idle ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
  const per30 = (w: Window) =>
    `${((w.cpu * 30) / seconds).toFixed(3)} CPU-s per 30 s (ticks: ${((w.ticks * 30) / seconds).toFixed(2)}; ${w.threads}), RSS ${mib(w.rss)} (anon ${mib(w.anon)}, file ${mib(w.file)}); load ${w.load}`;

  const flags = values['agent-flags'].split(' ').filter(Boolean);
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'NODE_OPTIONS').map(([k, v]) => `${k}=${v}`);
  say(`building dist/ (npm run build); agent: ${[...env, 'node', ...agentNodeFlags(), ...flags].join(' ')} bin/logship.js; load ${loadAverage()}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  dir = mkdtempSync(join(tmpdir(), 'logship-bench-idle-'));
  const logPath = join(dir, 'access.log');
  const busyData = join(dir, 'busy.log');
  const stateDir = join(dir, 'state');
  const initialBytes = generateFile(logPath, INITIAL_LINES, 1);
  let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (!brokers) {
    say('starting a local Kafka...');
    kafka = new LocalKafka();
    brokers = await kafka.start();
  }
  const busyBytes = lines > 0 ? generateFile(busyData, lines, 2) : 0;
  const topic = `bench-idle-${Date.now()}`;
  await createTopicNamed(topic, brokers);
  const config = writeConfig(dir, { inputs: [{ name: 'idle', paths: [logPath], format: 'combined' }], kafka: { brokers, topic }, state_dir: stateDir });

  const a = (agent = new InstalledAgent(config, flags));
  await a.waitForLog('logship running');
  await a.waitForLog('connected to Kafka');
  await waitFor(`the first ${INITIAL_LINES} lines checkpointed`, () => checkpointAt(stateDir, logPath, initialBytes), 60_000, 100);
  await sleep(settle * 1000);
  say(`idle, fresh: ${seconds} s window after ${settle} s settling...`);
  const fresh = await idleWindow(a, seconds);
  say(`  idle, fresh: ${per30(fresh)}`);

  if (lines > 0) {
    say(`busy: appending ${lines.toLocaleString('en-US')} lines (${mib(busyBytes)}) at full speed...`);
    const cpu0 = cpuSeconds(cpuTimes(a.pid));
    const t0 = Date.now();
    await pipeline(createReadStream(busyData, { highWaterMark: 1 << 20 }), createWriteStream(logPath, { flags: 'a' }));
    const total = INITIAL_LINES + lines;
    await waitFor(`${total} records in ${topic}`, async () => {
      if (!a.running) throw new Error(`agent exited: ${a.stderr.slice(-1000)}`);
      return (await topicSize(topic, brokers)) >= total;
    }, 15 * 60_000, 200);
    const busySeconds = (Date.now() - t0) / 1000;
    say(`  all acked in ${busySeconds.toFixed(1)} s, ${(cpuSeconds(cpuTimes(a.pid)) - cpu0).toFixed(2)} CPU-s, peak RSS ${mib(memory(a.pid).peakRss)}; load ${loadAverage()}`);
    await waitFor('the checkpoint at the end of the file', () => checkpointAt(stateDir, logPath, statSync(logPath).size), 60_000, 100);
    await sleep(settle * 1000);
    say(`idle after busy: ${seconds} s window after ${settle} s settling...`);
    const after = await idleWindow(a, seconds);
    say(`  idle after busy: ${per30(after)}`);
    console.log(`\nidle CPU fresh ${((fresh.cpu * 30) / seconds).toFixed(3)} / after busy ${((after.cpu * 30) / seconds).toFixed(3)} CPU-s per 30 s; RSS fresh ${mib(fresh.rss)} / after busy ${mib(after.rss)}; peak ${mib(memory(a.pid).peakRss)}; load ${loadAverage()}`);
  }
  const code = await a.stop();
  agent = undefined;
  if (code !== 0) throw new Error(`agent exited with ${code}: ${a.stderr.slice(-1000)}`);
}

await runBench(main, cleanUpSync, () => kafka);
