/**
 * One chaos scenario: a real nginx under wrk load, logrotate of one style,
 * the agent following `access.log` or `access.log*` with its spool on a
 * small filesystem, a real Kafka (or RabbitMQ, or Redis: outputs.ts); the
 * faults of a seeded schedule; then a settle and the count against nginx's truth log.
 *
 *   set up ─► load + faults (two lanes) ─► stop load, broker up, one agent
 *          ─► wait until the agent is idle or nothing moves ─► SIGTERM ─► count
 */
import { mkdirSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeConfig } from '../support/agent.ts';
import { buildConfig } from '../../src/config/load.ts';
import { memoryBound, memorySettings } from '../../src/observe/memory-bound.ts';
import { Logrotate, Nginx, requireTool, WrkLoop, writeUniqueRequestScript, type RotateMode } from '../support/nginx.ts';
import { smallFilesystem } from '../support/small-fs.ts';
import type { AgentRun } from './agent-run.ts';
import { Agents, BrokerHealth } from './agents.ts';
import { duplicateBound, perAgentEnd, type AgentEnd, type Bound } from './bound.ts';
import { count, LOG_FORMAT, readOnDisk, readWritten, type Counts } from './ground-truth.ts';
import { FaultRunner, type AppliedFault } from './faults.ts';
import type { ChaosOutput } from './outputs.ts';
import { planSchedule, type Schedule } from './schedule.ts';
import { settle } from './settle.ts';

interface After {
  after(fn: () => unknown): void;
}

export type PathsMode = 'single' | 'glob';

/** The agent's settings that the duplicate bound and the fault schedule depend on. */
export const AGENT_SETTINGS = {
  maxInFlight: 4,
  maxRecords: 500,
  requestTimeoutMs: 10_000,
  shutdownTimeoutMs: 10_000,
} as const;

/** A SIGTERM that has not ended the agent after its own shutdown timeout and this much more is called hung. */
const HUNG_AFTER_MS = AGENT_SETTINGS.shutdownTimeoutMs + 15_000;

export interface ScenarioOptions {
  paths: PathsMode;
  rotate: RotateMode;
  seed: number;
  durationMs: number;
  /** Paced load, requests/s (0: as fast as wrk goes). */
  rate: number;
  /** What the agent ships to (Kafka, RabbitMQ, Redis): the broker lane's faults act on it. */
  output: ChaosOutput;
  spoolFsBytes: number;
  /** Keep the run's directory (logs, truth, agent logs, state) for a post-mortem. */
  keep: boolean;
  /** Progress output, one line per event. */
  say: (text: string) => void;
}

export interface AgentSummary {
  n: number;
  pid: number;
  startedAtMs: number;
  endedAtMs: number | undefined;
  endedBy: string;
  exit: string;
  /** From the harness's signal to the exit. */
  stopMs: number | undefined;
  /** How its predecessor ended (which bounds what this one may send again), and that bound. */
  after: AgentEnd | 'first';
  mayResend: number;
  /**
   * What it may send again in all: mayResend, plus F x B for each broker
   * stop that began while it or its predecessor ran (the request the stop
   * cut off is sent again by whichever of them replays it).
   */
  budget: number;
  peakRssBytes: number;
  /** The RSS bound the agent stated for its settings (logship_memory_bound_bytes), if it states one. */
  memoryBoundBytes: number | undefined;
  linesRead: number;
  parseErrors: number;
  /** Extra copies whose timestamp falls in this process's lifetime. */
  duplicatesSent: number;
}

export interface ScenarioResult {
  name: string;
  options: Omit<ScenarioOptions, 'output' | 'say'> & { output: string };
  schedule: Schedule;
  dir: string;
  rotations: { n: number; atMs: number }[];
  faults: AppliedFault[];
  agents: AgentSummary[];
  counts: Counts;
  bound: Bound;
  settle: { outcome: string; ms: number };
  nginxCounted: number | undefined;
  parseErrors: number;
  spoolFs: string;
  /** The memory bound of the run's settings with every file of the log directory followed. */
  configMemoryBoundBytes: number;
  findings: string[];
  warnings: string[];
}

export function scenarioName(paths: PathsMode, rotate: RotateMode, output = 'kafka'): string {
  return `${paths === 'single' ? 'access.log' : 'access.log*'} x ${rotate}${output === 'kafka' ? '' : ` -> ${output}`}`;
}

export async function runScenario(t: After, options: ScenarioOptions): Promise<ScenarioResult> {
  const { output, say } = options;
  await Promise.all([requireTool('nginx', '-v'), requireTool('wrk', '-v'), requireTool('logrotate', '--version')]);
  const name = scenarioName(options.paths, options.rotate, output.kind);
  const warnings: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'logship-chaos-'));
  if (!options.keep) t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const accessLog = join(logDir, 'access.log');
  const truthLog = join(dir, 'truth.log');
  const suffix = `${options.paths}-${options.rotate}-${options.seed}`;
  const destination = await output.prepare(suffix, AGENT_SETTINGS);

  const nginx = await Nginx.start(t, join(dir, 'nginx'), { accessLog, truthLog, logFormat: LOG_FORMAT });
  // More rotations than a run makes: logrotate deletes nothing, so every line stays on disk to be counted.
  const logrotate = new Logrotate(dir, accessLog, options.rotate, nginx, 100_000);
  const mnt = smallFilesystem(t, options.spoolFsBytes);
  const spoolFs = mnt ? `${(options.spoolFsBytes / 2 ** 20).toFixed(1)} MiB filesystem at ${mnt}` : 'NOT on a small filesystem (mounting needs root)';
  if (!mnt) warnings.push('the spool is not on a small filesystem: mounting a tmpfs or a loop device failed (root needed)');
  const settings = {
    inputs: [
      {
        name: 'nginx',
        paths: [options.paths === 'single' ? accessLog : `${accessLog}*`],
        // The format as nginx has it: the agent reads the log_format directive from nginx's own configuration.
        nginx_conf: join(dir, 'nginx', 'nginx.conf'),
        format_name: 'logship_test',
        poll_interval_ms: 100,
        scan_interval_ms: 1_000,
        rotate_wait_ms: 2_000,
      },
    ],
    ...destination.settings,
    batch: { max_records: AGENT_SETTINGS.maxRecords, linger_ms: 50 },
    state_dir: join(dir, 'state'),
    spool: { dir: join(mnt ?? dir, 'spool') },
    shutdown_timeout_ms: AGENT_SETTINGS.shutdownTimeoutMs,
    log_level: 'info',
  };
  const config = writeConfig(dir, settings);
  // The memory bound these settings imply (observe/memory-bound.ts), for an agent killed before it states its own.
  const memory = memorySettings(buildConfig(settings));

  const schedule = planSchedule(options.seed, options.durationMs, { maxFreezeMs: AGENT_SETTINGS.requestTimeoutMs - 3_000, rotate: options.rotate });
  say(`${name}: seed ${options.seed}, ${options.durationMs / 1000} s, ${schedule.agent.length} agent faults + ${schedule.broker.length} broker faults planned; directory ${dir}`);

  const broker = new BrokerHealth();
  // A run that fails half-way leaves the broker as the next scenario (or the suite) needs it: running, not frozen.
  t.after(() => output.ensureUp());
  const agents = new Agents(t, dir, config, HUNG_AFTER_MS, () => broker.state);
  const first = await agents.start();
  say(`${name}: nginx -p ${join(dir, 'nginx')} (access log ${accessLog}, truth log ${truthLog}); logrotate -s ${logrotate.state} -f ${logrotate.config} (${options.rotate}); spool on ${spoolFs}`);
  say(`${name}: agent #1 (pid ${first.pid}): ${first.command.join(' ')}`);
  say(`${name}: output ${destination.describe}`);

  // The paced load: c connections, each waiting after every response so that together they make `rate`.
  const connections = options.rate > 0 ? Math.min(64, Math.max(4, Math.ceil(options.rate / 500))) : 16;
  const delayMs = options.rate > 0 ? Math.round((connections * 1000) / options.rate) : 0;
  const pacedScript = writeUniqueRequestScript(join(dir, 'paced.lua'), delayMs);
  const fastScript = writeUniqueRequestScript(join(dir, 'fast.lua'), 0);
  const load = new WrkLoop(t, nginx.url('/'), { threads: 1, connections, script: pacedScript });
  const runner = new FaultRunner({ t, nginx, logrotate, output, agents, broker, spoolMount: mnt, fastScript, say: (text) => say(`${name}: ${text}`) });

  // Scraping keeps each agent's counters and RSS current, so a killed one leaves its last figures.
  let scraping = true;
  t.after(() => (scraping = false)); // also when the run fails half-way
  const scraper = (async () => {
    while (scraping) {
      await agents.current?.scrape();
      await sleep(1_000);
    }
  })();

  try {
    await runner.run(schedule);
    const left = options.durationMs - runner.now();
    if (left > 0) await sleep(left);
  } finally {
    await load.stop();
  }
  runner.record('agent', 'load stopped', `${load.requests} paced requests answered`);

  // The end: broker up (the lanes end with it up), one agent running, then wait for it to finish.
  const agent = agents.current ?? (await agents.start());
  const settled = await settle(agent, () => output.size());
  runner.record('agent', 'settled', `${settled.outcome} after ${(settled.ms / 1000).toFixed(1)} s`);
  await agents.end('SIGTERM', 'end of run');
  scraping = false;
  await scraper;

  const nginxCounted = await nginx.loggedRequests().catch((err: Error) => {
    warnings.push(`nginx's request count could not be read: ${err.message}`);
    return undefined;
  });
  say(`${name}: counting (truth log, rotated files, ${output.name} read back with ${output.reader})`);
  const [written, onDisk, delivered, dead] = await Promise.all([
    readWritten(truthLog),
    readOnDisk(logDir, (n) => /^access\.log(\.\d+)?$/.test(n)),
    output.readDelivered(),
    output.readDeadLetters(),
  ]);
  if (nginxCounted !== undefined && nginxCounted !== written.length) warnings.push(`harness: nginx counted ${nginxCounted} requests, its truth log has ${written.length} lines`);
  const counts = count(written, onDisk, delivered, dead);
  if (options.rotate === 'create' && counts.notOnDisk > 0) warnings.push(`harness: ${counts.notOnDisk} lines of the truth log are in no rotated file (rename rotation keeps every line)`);

  const bound = duplicateBound(agents.ends, runner.brokerStops, runner.brokerFreezes, AGENT_SETTINGS);
  const sentBy = new Map<number, number>();
  for (const copy of delivered.extra) {
    // A timestamp in whole seconds (RabbitMQ's) may fall in two processes' lifetimes when the second started within a second of
    // the first's end: the earlier one sent it (a process sends nothing in its first second: Node, config, connection).
    const run = agents.runs.find((r) => copy.timestamp + output.timestampResolutionMs > r.startedAt && copy.timestamp <= (r.endedAt ?? Infinity));
    if (run) sentBy.set(run.n, (sentBy.get(run.n) ?? 0) + 1);
  }
  const stopsWhile = (from: AgentRun, to: AgentRun) => runner.brokerStopTimes.filter((at) => at >= from.startedAt && at <= (to.endedAt ?? Infinity)).length;
  const agentSummaries = agents.runs.map((r, i): AgentSummary => {
    const after = i === 0 ? 'first' : agents.ends[i - 1]!;
    return {
      n: r.n,
      pid: r.pid,
      startedAtMs: r.startedAt - runner.t0,
      endedAtMs: r.endedAt === undefined ? undefined : r.endedAt - runner.t0,
      endedBy: r.endedBy,
      exit: r.exit ? (r.exit.signal ?? `exit ${r.exit.code}`) : 'running',
      stopMs: r.signalledAt !== undefined && r.endedAt !== undefined ? r.endedAt - r.signalledAt : undefined,
      after,
      mayResend: after === 'first' ? 0 : perAgentEnd(after, AGENT_SETTINGS),
      budget: (after === 'first' ? 0 : perAgentEnd(after, AGENT_SETTINGS)) + AGENT_SETTINGS.maxInFlight * AGENT_SETTINGS.maxRecords * stopsWhile(agents.runs[i - 1] ?? r, r),
      peakRssBytes: r.peakRssBytes,
      memoryBoundBytes: r.memoryBoundBytes,
      linesRead: r.metrics.get('logship_lines_read_total') ?? 0,
      parseErrors: r.metrics.get('logship_parse_errors_total') ?? 0,
      duplicatesSent: sentBy.get(r.n) ?? 0,
    };
  });
  return {
    name,
    options: { output: output.kind, paths: options.paths, rotate: options.rotate, seed: options.seed, durationMs: options.durationMs, rate: options.rate, spoolFsBytes: options.spoolFsBytes, keep: options.keep },
    schedule,
    dir,
    rotations: runner.rotations,
    faults: runner.applied,
    agents: agentSummaries,
    counts,
    bound,
    settle: settled,
    nginxCounted,
    parseErrors: agentSummaries.reduce((n, a) => n + a.parseErrors, 0),
    spoolFs,
    configMemoryBoundBytes: memoryBound(memory, readdirSync(logDir).length),
    findings: runner.findings,
    warnings,
  };
}
