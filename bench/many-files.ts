/**
 * Many quiet files (`npm run bench:files`): the real agent, as installed,
 * following N files under one glob (a host with thousands of vhost logs),
 * measured from the outside with Kafka, /proc and, outside the measurement
 * windows, its /metrics. Numbers only; nothing asserts them.
 *
 *   node bench/many-files.ts [--files 3000] [--lines 3] [--idle-seconds 30]
 *                            [--trickle-seconds 30] [--trickle-every-ms 100]
 *                            [--profile] [--agent-flags="--max-semi-space-size=4"]
 *
 * Phases, one agent, default settings (poll_interval_ms 250, max_open_files
 * 1024, linger_ms 200):
 *
 * - start-up: N files of --lines `combined` lines each exist before the
 *   agent starts. Wall time from spawning it to the LogAppendTime of the
 *   last of those N × lines records (the topic is LogAppendTime, acks=all,
 *   one replica: append = ack); also when it had logged `following file`
 *   for every file. Peak RSS = VmHWM then; CPU = utime + stime then.
 * - idle: nothing written. Before the window the agent has saved a
 *   checkpoint at the end of every file (its start-up bookkeeping is done).
 *   CPU over the window (cores = CPU-seconds / window), per thread name
 *   (MainThread = JavaScript; libuv-worker = the threadpool, where fs calls
 *   run; V8Worker = GC and compilation), RSS at its end.
 * - trickle: one line appended (open, write, close) to a file picked at
 *   random (seeded) every --trickle-every-ms for --trickle-seconds, as a
 *   host with many quiet vhosts sees. CPU over the window; latency = the
 *   record's LogAppendTime − the time taken just before its write(2), both
 *   ms of this machine's clock, i.e. write → acked by Kafka (batching's
 *   linger_ms included).
 * - idle again: the idle window once more: RSS after a busy spell.
 *
 * After each phase (outside the windows): descriptors and inotify watches
 * from /proc/<pid>/fd and fdinfo, and the V8 heap, external memory and
 * garbage collections (a scrape just before the window and one after) from
 * the agent's /metrics. --profile runs the agent with `--cpu-prof` and
 * prints where its JavaScript thread's time went in each window (samples
 * cut to the window: V8's profile clock is CLOCK_MONOTONIC, as is
 * process.hrtime). Uses KAFKA_BROKERS or starts the local Kafka.
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import { BenchResources, runBench } from './run-bench.ts';
import { agentNodeFlags } from '../scripts/agent-launch.ts';
import { writeConfig } from '../test/support/agent.ts';
import { combinedLine, combinedLines } from '../test/support/combined-lines.ts';
import { createTopicNamed, topicSize } from '../test/support/kafka.ts';
import { waitFor } from '../test/support/wait.ts';
import { formatProfileSummary, summariseProfile } from './cpu-profile.ts';
import { seededRandom } from './generate-lines.ts';
import { InstalledAgent } from './installed-agent.ts';
import { cpuByThread, cpuByThreadSince, descriptors, type Descriptors } from './proc-detail.ts';
import { cpuCount, cpuModel, cpuSeconds, cpuTimes, loadAverage, memory } from './proc-stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const run = promisify(execFile);

// ---------------------------------------------------------------- what each phase measures

/** The agent's memory as it sees it (from /metrics, read after the phase). */
interface Heap {
  heapUsed: number;
  heapTotal: number;
  /** Memory outside V8's heap that V8 knows of (Buffers and other ArrayBuffers included). */
  external: number;
}

interface Phase {
  name: string;
  seconds: number;
  cpuSeconds: number;
  cores: number;
  /** CPU-seconds per thread name over the phase. */
  threads: Record<string, number>;
  rss: number;
  peakRss: number;
  heap: Heap;
  /** Garbage collections in the phase, and their time (from the agent's own gc metric): how much it allocates. */
  gcRuns: number;
  gcSeconds: number;
  fds: Descriptors;
}

interface Latency {
  lines: number;
  p50: number;
  p99: number;
  max: number;
}

interface Result {
  bench: 'many-files';
  date: string;
  git: string;
  node: string;
  cpus: string;
  load: [string, string];
  files: number;
  linesPerFile: number;
  startup: { toRunningMs: number; toAllFollowedMs: number; toAllInKafkaMs: number };
  trickle: { everyMs: number; latency: Latency; of: 'write → LogAppendTime (acked)' };
  phases: Phase[];
}

/** The agent's garbage collections so far: [count, seconds]. */
async function gcSoFar(agent: InstalledAgent): Promise<[number, number]> {
  const m = await agent.metrics();
  return [m.get('logship_nodejs_gc_duration_seconds_count') ?? NaN, m.get('logship_nodejs_gc_duration_seconds_sum') ?? NaN];
}

/** CPU and memory of the agent from `cpu0` and `gc0` (taken at the phase's start) to now. */
async function endPhase(agent: InstalledAgent, name: string, seconds: number, cpu0: number, threads0: Map<string, number>, gc0: [number, number], logDir: string): Promise<Phase> {
  const cpu = cpuSeconds(cpuTimes(agent.pid)) - cpu0;
  const threads = cpuByThreadSince(threads0, cpuByThread(agent.pid));
  const mem = memory(agent.pid);
  const fds = descriptors(agent.pid, logDir);
  // The scrape comes last: its own cost is outside the figures above.
  const m = await agent.metrics();
  const metric = (n: string) => m.get(`logship_nodejs_${n}`) ?? NaN;
  return {
    name,
    seconds,
    cpuSeconds: cpu,
    cores: cpu / seconds,
    threads: Object.fromEntries([...threads].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1])),
    rss: mem.rss,
    peakRss: mem.peakRss,
    heap: { heapUsed: metric('heap_size_used_bytes'), heapTotal: metric('heap_size_total_bytes'), external: metric('external_memory_bytes') },
    gcRuns: metric('gc_duration_seconds_count') - gc0[0],
    gcSeconds: metric('gc_duration_seconds_sum') - gc0[1],
    fds,
  };
}

/** A measurement window: nothing but `during` happens; CPU from its first to its last instant. Returns [phase, window in the monotonic clock, µs]. */
async function window(agent: InstalledAgent, name: string, seconds: number, logDir: string, during?: () => () => void): Promise<[Phase, [number, number]]> {
  const gc0 = await gcSoFar(agent); // a scrape: before the window, not in it
  const threads0 = cpuByThread(agent.pid);
  const cpu0 = cpuSeconds(cpuTimes(agent.pid));
  const from = Number(process.hrtime.bigint() / 1000n);
  const stop = during?.();
  await sleep(seconds * 1000);
  stop?.();
  const to = Number(process.hrtime.bigint() / 1000n);
  return [await endPhase(agent, name, (to - from) / 1e6, cpu0, threads0, gc0, logDir), [from, to]];
}

// ---------------------------------------------------------------- Kafka

/** [LogAppendTime, value] of `count` messages from `offset` of partition 0, read with kcat. */
async function appended(brokers: string[], topic: string, offset: number, count: number): Promise<[number, string][]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-p', '0', '-o', String(offset), '-c', String(count), '-e', '-q', '-f', '%T %s\n'], { maxBuffer: 1 << 28 });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => [Number(line.slice(0, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1)]);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

// ---------------------------------------------------------------- profile

interface CpuProfile {
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The samples of a .cpuprofile taken in [from, to] (µs, CLOCK_MONOTONIC), as a profile file of their own. */
function cutProfile(file: string, [from, to]: [number, number], out: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= from && at <= to) {
      samples.push(profile.samples[i]!);
      timeDeltas.push(profile.timeDeltas[i] ?? 0);
    }
  }
  writeFileSync(out, JSON.stringify({ ...profile, samples, timeDeltas }));
  return out;
}

// ---------------------------------------------------------------- output

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

function table(r: Result): string {
  const head = ['', ...r.phases.map((p) => p.name)];
  const threadNames = [...new Set(r.phases.flatMap((p) => Object.keys(p.threads)))];
  const rows: string[][] = [
    ['wall / window', ...r.phases.map((p) => `${p.seconds.toFixed(1)} s`)],
    ['agent CPU, cores (CPU-s)', ...r.phases.map((p) => `${p.cores.toFixed(3)} (${p.cpuSeconds.toFixed(2)} s)`)],
    ...threadNames.map((t) => [`  of which ${t}, cores`, ...r.phases.map((p) => (p.threads[t] === undefined ? '—' : (p.threads[t] / p.seconds).toFixed(3)))]),
    ['RSS at the end', ...r.phases.map((p) => mib(p.rss))],
    ['peak RSS (VmHWM) so far', ...r.phases.map((p) => mib(p.peakRss))],
    ['V8 heap used / total', ...r.phases.map((p) => `${mib(p.heap.heapUsed)} / ${mib(p.heap.heapTotal)}`)],
    ['external (Buffers, ...)', ...r.phases.map((p) => mib(p.heap.external))],
    ['GC runs (GC seconds)', ...r.phases.map((p) => `${int(p.gcRuns)} (${p.gcSeconds.toFixed(2)} s)`)],
    ['descriptors: all / log files', ...r.phases.map((p) => `${int(p.fds.total)} / ${int(p.fds.under)}`)],
    ['inotify: instances / watches', ...r.phases.map((p) => `${p.fds.inotifyInstances} / ${int(p.fds.inotifyWatches)}`)],
  ];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const fmt = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  const s = r.startup;
  const l = r.trickle.latency;
  return [
    `Many files (\`npm run bench:files\`), ${r.date}: ${r.cpus}, Node ${r.node}; load ${r.load[0]} at start, ${r.load[1]} at end.`,
    r.git + '.',
    `${int(r.files)} files × ${r.linesPerFile} combined lines under one glob; agent defaults (poll 250 ms, max_open_files 1024, linger 200 ms).`,
    '',
    fmt(head),
    ...rows.map(fmt),
    '',
    `start-up, from spawn: running ${int(s.toRunningMs)} ms, every file followed ${int(s.toAllFollowedMs)} ms, all ${int(r.files * r.linesPerFile)} lines acked in Kafka ${int(s.toAllInKafkaMs)} ms.`,
    `trickle, one line every ${r.trickle.everyMs} ms to a random file: latency ${r.trickle.of} p50 ${int(l.p50)} ms, p99 ${int(l.p99)} ms, max ${int(l.max)} ms over ${int(l.lines)} lines.`,
  ].join('\n');
}

// ---------------------------------------------------------------- main

const res = new BenchResources();

/** Which sources dist/ was built from: the commit, and what under src/ differs from it (others may be editing the tree). */
function gitState(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).map((l) => l.slice(3));
    const head = git('rev-parse', '--short', 'HEAD').trim();
    return changed.length === 0 ? `dist/ built from ${head}, src/ as committed` : `dist/ built from ${head} + ${changed.length} uncommitted under src/ (${changed.join(', ')})`;
  } catch {
    return 'dist/ built from a tree that is not a git checkout';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '3000' },
      lines: { type: 'string', default: '3' },
      'idle-seconds': { type: 'string', default: '30' },
      'trickle-seconds': { type: 'string', default: '30' },
      'trickle-every-ms': { type: 'string', default: '100' },
      profile: { type: 'boolean', default: false },
      'agent-flags': { type: 'string', default: '' },
    },
  });
  const files = Number(values.files);
  const linesPerFile = Number(values.lines);
  const idleSeconds = Number(values['idle-seconds']);
  const trickleSeconds = Number(values['trickle-seconds']);
  const everyMs = Number(values['trickle-every-ms']);
  if (!(files > 0 && linesPerFile > 0 && everyMs > 0)) throw new Error('--files, --lines and --trickle-every-ms must be positive');
  const started = Date.now();
  const say = (text: string) => process.stdout.write(`[files ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
  const load0 = loadAverage();

  say(`building dist/ (npm run build); agent: node ${agentNodeFlags().join(' ')} ${values['agent-flags']} bin/logship.js`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const git = gitState();
  say(git);

  const dir = (res.dir = mkdtempSync(join(tmpdir(), 'logship-bench-files-')));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const path = (i: number) => join(logDir, `vhost-${String(i).padStart(5, '0')}.access.log`);
  let initialBytes = 0;
  for (let i = 0; i < files; i++) {
    const text = combinedLines(i * linesPerFile, linesPerFile);
    writeFileSync(path(i), text);
    initialBytes += Buffer.byteLength(text);
  }
  const initial = files * linesPerFile;

  let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (!brokers) {
    say('starting a local Kafka...');
    res.kafka = new LocalKafka();
    brokers = await res.kafka.start();
  }
  const topic = `bench-files-${Date.now()}`;
  await createTopicNamed(topic, brokers, { 'message.timestamp.type': 'LogAppendTime' });
  const stateDir = join(dir, 'state');
  const config = writeConfig(dir, { inputs: [{ name: 'vhosts', paths: [join(logDir, '*.access.log')], format: 'combined' }], kafka: { brokers, topic }, state_dir: stateDir });
  const profileDir = join(dir, 'profile');
  const flags = [...values['agent-flags'].split(' ').filter(Boolean), ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];

  // ---- start-up
  say(`start-up: ${int(files)} files × ${linesPerFile} lines (${mib(initialBytes)}) under ${logDir}/*.access.log`);
  const threads0 = new Map<string, number>();
  const spawnedAt = Date.now();
  const a = (res.agent = new InstalledAgent(config, flags));
  const running = await a.waitForLog('logship running', 10 * 60_000);
  await waitFor(`${initial} records in ${topic}`, async () => (await topicSize(topic, brokers)) >= initial, 10 * 60_000, 200);
  const startupPhase = await endPhase(a, 'start-up', 0, 0, threads0, [0, 0], logDir);
  const shipped = await topicSize(topic, brokers);
  if (shipped !== initial) throw new Error(`${shipped} records in ${topic} after start-up, expected ${initial} (duplicates?)`);
  const [[lastAck]] = (await appended(brokers, topic, initial - 1, 1)) as [[number, string]];
  const followed = a.logs.filter((l) => l.msg === 'following file');
  if (followed.length !== files) throw new Error(`the agent follows ${followed.length} files, expected ${files}`);
  const startup = {
    toRunningMs: (running.time as number) - spawnedAt,
    toAllFollowedMs: Math.max(...followed.map((l) => l.time as number)) - spawnedAt,
    toAllInKafkaMs: lastAck - spawnedAt,
  };
  startupPhase.seconds = startup.toAllInKafkaMs / 1000;
  startupPhase.cores = startupPhase.cpuSeconds / startupPhase.seconds;
  say(`  all ${int(initial)} lines acked ${int(startup.toAllInKafkaMs)} ms after spawn; ${startupPhase.cpuSeconds.toFixed(2)} CPU-s; peak RSS ${mib(startupPhase.peakRss)}`);

  // Idle means start-up is over: a checkpoint at the end of every file is on disk.
  await waitFor('checkpoints at the end of every file', () => {
    const saved = JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
    const entries = Object.values(saved.files);
    return entries.length === files && entries.reduce((sum, c) => sum + c.offset, 0) === initialBytes;
  }, 120_000, 200);

  // ---- idle
  say(`idle: ${idleSeconds} s, nothing written`);
  const [idle, idleWindow] = await window(a, 'idle', idleSeconds, logDir);
  say(`  ${idle.cores.toFixed(3)} cores, RSS ${mib(idle.rss)}`);

  // ---- trickle
  say(`trickle: one line every ${everyMs} ms to a random file, ${trickleSeconds} s`);
  const random = seededRandom(13);
  const writtenAt: number[] = [];
  const [trickle, trickleWindow] = await window(a, 'trickle', trickleSeconds, logDir, () => {
    const timer = setInterval(() => {
      const line = combinedLine(initial + writtenAt.length) + '\n';
      const file = path(Math.floor(random() * files));
      writtenAt.push(Date.now());
      appendFileSync(file, line);
    }, everyMs);
    return () => clearInterval(timer);
  });
  const total = initial + writtenAt.length;
  await waitFor(`${total} records in ${topic}`, async () => (await topicSize(topic, brokers)) >= total, 120_000, 100);
  const latencies = (await appended(brokers, topic, initial, writtenAt.length)).map(([ts, value]) => {
    const index = Number(/test-agent\/(\d+)/.exec(value)?.[1]);
    const at = writtenAt[index - initial];
    if (at === undefined) throw new Error(`a record that was not written in the trickle: ${value.slice(0, 200)}`);
    return ts - at;
  });
  if (latencies.length !== writtenAt.length) throw new Error(`read back ${latencies.length} of ${writtenAt.length} trickled records`);
  latencies.sort((x, y) => x - y);
  const latency: Latency = { lines: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN };
  say(`  ${trickle.cores.toFixed(3)} cores; ${writtenAt.length} lines, write → acked p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`);

  // ---- idle again
  say(`idle again: ${idleSeconds} s`);
  const [idleAgain, idleAgainWindow] = await window(a, 'idle again', idleSeconds, logDir);
  say(`  ${idleAgain.cores.toFixed(3)} cores, RSS ${mib(idleAgain.rss)}`);

  const code = await a.stop();
  if (code !== 0) throw new Error(`agent exited with ${code}: ${a.stderr.slice(-1000)}`);
  res.agent = undefined;

  let profile: string | undefined;
  if (values.profile) {
    const written = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    if (written.length !== 1) throw new Error(`expected one .cpuprofile in ${profileDir}, found ${written.length}`);
    // Kept (outside the temporary directory) for Chrome DevTools or speedscope.
    const kept = join(tmpdir(), `logship-bench-files-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    copyFileSync(join(profileDir, written[0]!), kept);
    const parts = ([['idle', idleWindow], ['trickle', trickleWindow], ['idle again', idleAgainWindow]] as const).map(
      ([name, w]) => `---- ${name} window, JavaScript thread only:\n${formatProfileSummary(summariseProfile(cutProfile(kept, w, join(dir!, `${name}.cpuprofile`)), 15))}`,
    );
    profile = `${parts.join('\n\n')}\n\nWhole profile kept at ${kept}`;
  }

  const result: Result = {
    bench: 'many-files',
    date: new Date().toISOString().slice(0, 10),
    git,
    node: process.versions.node,
    cpus: `${cpuCount()} × ${cpuModel()}`,
    load: [load0, loadAverage()],
    files,
    linesPerFile,
    startup,
    trickle: { everyMs, latency, of: 'write → LogAppendTime (acked)' },
    phases: [startupPhase, idle, trickle, idleAgain],
  };
  console.log('\n' + table(result));
  if (profile) console.log('\n' + profile);
  console.log('\n' + JSON.stringify(result));
}

await runBench(main, res.cleanUpSync, () => res.kafka);
