/**
 * The fault schedule: what happens when, decided up front from a seed, so a
 * failing run can be repeated with its seed. Two lanes run side by side:
 * the agent lane (rotations, agent signals and restarts, load bursts,
 * reloads) and the broker lane (stops, freezes, and a stop that fills the
 * spool's filesystem), so a restart can land while the broker is down, as
 * users see it.
 *
 * Each lane first takes every fault kind once (in a seeded order, so even a
 * short run covers them), then random ones until the duration is used up.
 * The times are the plan; a fault that takes longer than planned delays the
 * next one (the report shows when each was applied).
 */
import type { RotateMode } from '../support/nginx.ts';
import { Prng } from './prng.ts';

export type AgentSignal = 'SIGTERM' | 'SIGKILL';

export type AgentFault =
  /**
   * logrotate, nothing else. With copytruncate and `copyPauseMs` > 0,
   * logrotate is frozen part-way through its copy that long (a large
   * file, a slow disk): the copy is half-written meanwhile.
   */
  | { kind: 'rotate'; copyPauseMs: number }
  /** logrotate, then the signal `afterMs` later (mid hand-over), the agent started again `downMs` after it exited. */
  | { kind: 'rotate+signal'; signal: AgentSignal; afterMs: number; downMs: number }
  /** The signal at a random moment, the agent started again `downMs` after it exited. */
  | { kind: 'signal'; signal: AgentSignal; downMs: number }
  /**
   * The agent far behind: stopped (SIGTERM) for `downMs` while nginx runs
   * as fast as wrk drives it, started again, rotated `rotateAfterMs` later
   * while it catches up, then the signal `afterMs` after the rotation, and
   * started again.
   */
  | { kind: 'behind'; downMs: number; rotateAfterMs: number; signal: AgentSignal; afterMs: number }
  /** nginx as fast as wrk can drive it for `ms` (on top of the paced load): the agent falls behind. */
  | { kind: 'burst'; ms: number }
  /** SIGHUP to the agent: reload its (unchanged) configuration. */
  | { kind: 'agent-hup' }
  /** SIGHUP to nginx: reload, new worker, logs reopened. */
  | { kind: 'nginx-hup' };

export type BrokerFault =
  /** The broker process stopped for `holdMs` (the spool fills its small filesystem meanwhile), then started on the same ports and data. */
  | { kind: 'broker-stop'; holdMs: number }
  /** The broker JVM frozen (SIGSTOP) for `holdMs`, then thawed: a long GC pause or a hung disk. */
  | { kind: 'broker-freeze'; holdMs: number }
  /**
   * The broker stopped while nginx runs unpaced until the spool's small
   * filesystem is full (at most `maxFillMs`), `holdFullMs` more down, then
   * started again; no agent restart meanwhile, and delivery must resume by
   * itself: the spool drains and the agent catches up, or the run fails.
   */
  | { kind: 'broker-fill'; maxFillMs: number; holdFullMs: number };

export interface Planned<F> {
  atMs: number;
  fault: F;
}

export interface Schedule {
  seed: number;
  durationMs: number;
  agent: Planned<AgentFault>[];
  broker: Planned<BrokerFault>[];
}

export interface ScheduleOptions {
  /** Freezes stay this much shorter than the agent's request timeout: see bound.ts for why. */
  maxFreezeMs: number;
  rotate: RotateMode;
}

/** Rough time a fault takes beyond its own waits (a restart: Node and the agent start in about a second). */
const RESTART_MS = 1_500;

function agentCost(f: AgentFault): number {
  switch (f.kind) {
    case 'rotate':
      return 300 + f.copyPauseMs;
    case 'rotate+signal':
      return 300 + f.afterMs + RESTART_MS + f.downMs;
    case 'signal':
      return RESTART_MS + f.downMs;
    case 'behind':
      return RESTART_MS + f.downMs + RESTART_MS + f.rotateAfterMs + 300 + f.afterMs + RESTART_MS;
    case 'burst':
      return f.ms;
    case 'agent-hup':
    case 'nginx-hup':
      return 100;
  }
}

function brokerCost(f: BrokerFault): number {
  // A stop waits for the controlled shutdown, a start for the broker to answer: a few seconds together.
  if (f.kind === 'broker-fill') return f.maxFillMs / 2 + f.holdFullMs + 8_000;
  return f.holdMs + (f.kind === 'broker-stop' ? 4_000 : 100);
}

function agentFault(rng: Prng, kind: AgentFault['kind'], options: ScheduleOptions, signal: AgentSignal = rng.pick(['SIGTERM', 'SIGKILL'])): AgentFault {
  switch (kind) {
    case 'rotate':
      return { kind, copyPauseMs: options.rotate === 'copytruncate' && rng.next() < 0.5 ? rng.int(200, 2_000) : 0 };
    case 'rotate+signal':
      // 0-1 s after the rotation: while the old file is being drained or handed over to its copy.
      return { kind, signal, afterMs: rng.int(0, 1_000), downMs: rng.int(0, 1_000) };
    case 'signal':
      return { kind, signal, downMs: rng.int(0, 2_000) };
    case 'behind':
      return { kind, downMs: rng.int(2_000, 5_000), rotateAfterMs: rng.int(200, 1_000), signal, afterMs: rng.int(0, 1_000) };
    case 'burst':
      return { kind, ms: rng.int(2_000, 6_000) };
    case 'agent-hup':
    case 'nginx-hup':
      return { kind };
  }
}

function brokerFault(rng: Prng, kind: BrokerFault['kind'], options: ScheduleOptions): BrokerFault {
  switch (kind) {
    case 'broker-stop':
      return { kind, holdMs: rng.int(2_000, 8_000) };
    case 'broker-freeze':
      return { kind, holdMs: rng.int(1_000, options.maxFreezeMs) };
    case 'broker-fill':
      return { kind, maxFillMs: 15_000, holdFullMs: rng.int(1_000, 6_000) };
  }
}

const AGENT_WEIGHTS = { rotate: 3, 'rotate+signal': 4, signal: 2, behind: 1, burst: 1, 'agent-hup': 0.5, 'nginx-hup': 0.5 } as const;
const BROKER_WEIGHTS = { 'broker-stop': 2, 'broker-freeze': 2, 'broker-fill': 1 } as const;

export function planSchedule(seed: number, durationMs: number, options: ScheduleOptions): Schedule {
  const rng = new Prng(seed);
  const agentRng = new Prng(rng.fork());
  const brokerRng = new Prng(rng.fork());

  // What users hit, once each (both signals mid hand-over), then at random.
  const agentFirst: AgentFault[] = agentRng.shuffle([
    agentFault(agentRng, 'rotate+signal', options, 'SIGTERM'),
    agentFault(agentRng, 'rotate+signal', options, 'SIGKILL'),
    agentFault(agentRng, 'behind', options),
    agentFault(agentRng, 'signal', options, 'SIGKILL'),
    agentFault(agentRng, 'agent-hup', options),
    agentFault(agentRng, 'nginx-hup', options),
  ]);
  const agent: Planned<AgentFault>[] = [];
  let t = agentRng.int(500, 2_000);
  for (let i = 0; i < agentFirst.length || t < durationMs; i++) {
    const fault = agentFirst[i] ?? agentFault(agentRng, agentRng.weighted(AGENT_WEIGHTS), options);
    agent.push({ atMs: t, fault });
    t += agentCost(fault) + agentRng.int(300, 3_000);
  }

  const brokerFirst = brokerRng.shuffle([brokerFault(brokerRng, 'broker-fill', options), brokerFault(brokerRng, 'broker-freeze', options)]);
  const broker: Planned<BrokerFault>[] = [];
  t = brokerRng.int(2_000, 5_000);
  for (let i = 0; i < brokerFirst.length || t < durationMs; i++) {
    const fault = brokerFirst[i] ?? brokerFault(brokerRng, brokerRng.weighted(BROKER_WEIGHTS), options);
    broker.push({ atMs: t, fault });
    t += brokerCost(fault) + brokerRng.int(3_000, 10_000);
  }
  return { seed, durationMs, agent, broker };
}

/** One line per planned fault, for the run's output. */
export function describeFault(f: AgentFault | BrokerFault): string {
  switch (f.kind) {
    case 'rotate':
      return f.copyPauseMs > 0 ? `logrotate, frozen ${f.copyPauseMs} ms part-way through its copy` : 'logrotate';
    case 'rotate+signal':
      return `logrotate, ${f.signal} ${f.afterMs} ms later, restart after ${f.downMs} ms`;
    case 'signal':
      return `${f.signal}, restart after ${f.downMs} ms`;
    case 'behind':
      return `agent down ${f.downMs} ms under unpaced load, restart, logrotate ${f.rotateAfterMs} ms later, ${f.signal} ${f.afterMs} ms after it, restart`;
    case 'burst':
      return `unpaced load for ${f.ms} ms`;
    case 'agent-hup':
      return 'SIGHUP to the agent (reload)';
    case 'nginx-hup':
      return 'SIGHUP to nginx (reload)';
    case 'broker-stop':
      return `broker stopped for ${f.holdMs} ms`;
    case 'broker-freeze':
      return `broker frozen (SIGSTOP) for ${f.holdMs} ms`;
    case 'broker-fill':
      return `broker stopped under unpaced load until the spool's filesystem is full (at most ${f.maxFillMs} ms), ${f.holdFullMs} ms more, then started; delivery must resume`;
  }
}
