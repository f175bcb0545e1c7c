/**
 * What the agent as installed costs while nothing is written, fresh and
 * after a busy spell (bench/idle.ts runs it alone, `npm run bench` after its
 * throughput runs). Default settings, one input following one existing
 * file, connected to Kafka, metrics on.
 *
 * - idle, fresh: the file's first lines are acked and checkpointed, then
 *   `settle` s pass (the tailer's check backs off from 250 ms to 5 s over
 *   about 8 s), then CPU over a `seconds` window and RSS at its end. CPU is
 *   the scheduler's clock (schedstat, ns; exact), with utime + stime (10 ms
 *   ticks, what `top` and the other benches show) beside it.
 * - busy: `lines` lines appended to the file at full speed (a pre-generated
 *   file copied in); done when Kafka's high watermark has them all. Peak RSS
 *   (VmHWM) then.
 * - idle after busy: once the checkpoint is at the file's end, the same
 *   settle and window: CPU, and RSS at its end.
 */
import { closeSync, createReadStream, createWriteStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeConfig } from '../test/support/agent.ts';
import { createTopicNamed, topicSize } from '../test/support/kafka.ts';
import { waitFor } from '../test/support/wait.ts';
import { generateLines } from './generate-lines.ts';
import { InstalledAgent } from './installed-agent.ts';
import { cpuByThread, cpuByThreadSince } from './proc-detail.ts';
import { cpuSeconds, cpuTimes, loadAverage, memory, schedCpuSeconds } from './proc-stats.ts';

const MiB = 1024 * 1024;
const INITIAL_LINES = 1000;

export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

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

export interface IdleWindow {
  /** CPU-s by the scheduler's clock (exact), over the window. */
  cpu: number;
  /** CPU-s by /proc ticks (10 ms each). */
  ticks: number;
  /** CPU-s per thread name, busiest first. */
  threads: string;
  rss: number;
  anon: number;
  file: number;
  load: string;
  seconds: number;
}

/** The window's CPU scaled to 30 s: the figure the footprint target is set in. */
export const per30s = (w: IdleWindow) => (w.cpu * 30) / w.seconds;

export const describeWindow = (w: IdleWindow) =>
  `${per30s(w).toFixed(3)} CPU-s per 30 s (ticks: ${((w.ticks * 30) / w.seconds).toFixed(2)}; ${w.threads}), RSS ${mib(w.rss)} (anon ${mib(w.anon)}, file ${mib(w.file)}); load ${w.load}`;

/** CPU of the agent over `seconds` of nothing happening, per thread name, and RSS at the end. */
async function idleWindow(agent: InstalledAgent, seconds: number): Promise<IdleWindow> {
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
  return { cpu, ticks, threads: threads || 'none', rss, anon, file, load: loadAverage(), seconds };
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

export interface IdleOptions {
  brokers: string[];
  /** A directory of its own, removed by the caller. */
  dir: string;
  /** Lines of the busy spell; 0: fresh only. */
  lines: number;
  seconds: number;
  settle: number;
  agentFlags: string[];
  say: (text: string) => void;
  /** Called with the agent as soon as it starts, so the caller can kill it if the bench ends early. */
  started: (agent: InstalledAgent) => void;
}

export interface IdleResult {
  fresh: IdleWindow;
  afterBusy: IdleWindow | undefined;
  busySeconds: number;
  peakRss: number;
}

export async function measureIdle(o: IdleOptions): Promise<IdleResult> {
  const logPath = join(o.dir, 'access.log');
  const busyData = join(o.dir, 'busy.log');
  const stateDir = join(o.dir, 'state');
  const initialBytes = generateFile(logPath, INITIAL_LINES, 1);
  const busyBytes = o.lines > 0 ? generateFile(busyData, o.lines, 2) : 0;
  const topic = `bench-idle-${Date.now()}`;
  await createTopicNamed(topic, o.brokers);
  const config = writeConfig(o.dir, { inputs: [{ name: 'idle', paths: [logPath], format: 'combined' }], kafka: { brokers: o.brokers, topic }, state_dir: stateDir });

  const agent = new InstalledAgent(config, o.agentFlags);
  o.started(agent);
  await agent.waitForLog('logship running');
  await agent.waitForLog('connected to Kafka');
  await waitFor(`the first ${INITIAL_LINES} lines checkpointed`, () => checkpointAt(stateDir, logPath, initialBytes), 60_000, 100);
  await sleep(o.settle * 1000);
  o.say(`idle, fresh: ${o.seconds} s window after ${o.settle} s settling...`);
  const fresh = await idleWindow(agent, o.seconds);
  o.say(`  idle, fresh: ${describeWindow(fresh)}`);

  let afterBusy: IdleWindow | undefined;
  let busySeconds = 0;
  if (o.lines > 0) {
    o.say(`busy: appending ${o.lines.toLocaleString('en-US')} lines (${mib(busyBytes)}) at full speed...`);
    const cpu0 = cpuSeconds(cpuTimes(agent.pid));
    const t0 = Date.now();
    await pipeline(createReadStream(busyData, { highWaterMark: 1 << 20 }), createWriteStream(logPath, { flags: 'a' }));
    const total = INITIAL_LINES + o.lines;
    await waitFor(`${total} records in ${topic}`, async () => {
      if (!agent.running) throw new Error(`agent exited: ${agent.stderr.slice(-1000)}`);
      return (await topicSize(topic, o.brokers)) >= total;
    }, 15 * 60_000, 200);
    busySeconds = (Date.now() - t0) / 1000;
    o.say(`  all acked in ${busySeconds.toFixed(1)} s, ${(cpuSeconds(cpuTimes(agent.pid)) - cpu0).toFixed(2)} CPU-s, peak RSS ${mib(memory(agent.pid).peakRss)}; load ${loadAverage()}`);
    await waitFor('the checkpoint at the end of the file', () => checkpointAt(stateDir, logPath, statSync(logPath).size), 60_000, 100);
    await sleep(o.settle * 1000);
    o.say(`idle after busy: ${o.seconds} s window after ${o.settle} s settling...`);
    afterBusy = await idleWindow(agent, o.seconds);
    o.say(`  idle after busy: ${describeWindow(afterBusy)}`);
  }
  const peakRss = memory(agent.pid).peakRss;
  const code = await agent.stop();
  if (code !== 0) throw new Error(`agent exited with ${code}: ${agent.stderr.slice(-1000)}`);
  return { fresh, afterBusy, busySeconds, peakRss };
}
