/**
 * Applying a fault schedule (schedule.ts) to a running scenario: the agent
 * lane and the broker lane side by side, each fault at its planned time
 * (or as soon as the one before it is done), every one recorded with the
 * time it was applied and what came of it.
 */
import { statfsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Wrk, type Logrotate, type Nginx } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';
import type { Agents, BrokerHealth } from './agents.ts';
import type { ChaosOutput } from './outputs.ts';
import { describeFault, type AgentFault, type AgentSignal, type BrokerFault, type Planned, type Schedule } from './schedule.ts';
import { deliveryResumed } from './settle.ts';

interface After {
  after(fn: () => unknown): void;
}

export interface AppliedFault {
  atMs: number;
  lane: 'agent' | 'broker';
  fault: string;
  detail: string;
}

export interface FaultTargets {
  t: After;
  nginx: Nginx;
  logrotate: Logrotate;
  /** The broker the lane stops and freezes. */
  output: ChaosOutput;
  agents: Agents;
  broker: BrokerHealth;
  /** Where the spool's small filesystem is mounted (undefined: none could be). */
  spoolMount: string | undefined;
  /** wrk script for unpaced load. */
  fastScript: string;
  /** One line of progress output. */
  say: (text: string) => void;
}

/** Bytes logrotate's copy holds when a "frozen mid-copy" rotation stops it. */
const COPY_PAUSE_AT_BYTES = 64 * 1024;
/** The spool's filesystem counts as full with less than this share free, or once the agent counts a spool_full error. */
const FULL_BELOW_FREE = 0.05;
const SPOOL_FULL_ERRORS = 'logship_errors_total{kind="spool_full"}';

export class FaultRunner {
  readonly applied: AppliedFault[] = [];
  readonly rotations: { n: number; atMs: number }[] = [];
  /** What went wrong besides the count (a delivery that never resumed): each fails the run. */
  readonly findings: string[] = [];
  brokerStops = 0;
  brokerFreezes = 0;
  /** When each broker stop began (Date.now()). */
  readonly brokerStopTimes: number[] = [];
  /** The scenario's clock: the load starts now. */
  readonly t0 = Date.now();
  private readonly x: FaultTargets;
  /** The fill needs one agent throughout (a restart would hide a delivery that never resumes): it and the agent lane take turns. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Set when a lane fails: the other one stops after its current fault. */
  private failed = false;

  constructor(targets: FaultTargets) {
    this.x = targets;
  }

  now(): number {
    return Date.now() - this.t0;
  }

  progress(atMs: number, lane: AppliedFault['lane'], text: string): void {
    this.x.say(`${(atMs / 1000).toFixed(1).padStart(6)} s  ${lane.padEnd(6)} ${text}`);
  }

  /** Records an event of the run that is not a planned fault (load stopped, settled). */
  record(lane: AppliedFault['lane'], fault: string, detail: string): void {
    const atMs = this.now();
    this.applied.push({ atMs, lane, fault, detail });
    this.progress(atMs, lane, `${fault}${detail ? `: ${detail}` : ''}`);
  }

  /** Runs both lanes to their end; both end before this returns, also when one fails (no fault lands during the count or the cleanup). */
  async run(schedule: Schedule): Promise<void> {
    const lanes = await Promise.allSettled([
      this.lane('agent', schedule.agent, (f) => this.exclusive(() => this.agentFault(f))),
      this.lane('broker', schedule.broker, (f) => this.brokerFault(f)),
    ]);
    for (const l of lanes) if (l.status === 'rejected') throw l.reason;
  }

  private async lane<F extends AgentFault | BrokerFault>(which: AppliedFault['lane'], plan: Planned<F>[], apply: (f: F) => Promise<string>): Promise<void> {
    for (const step of plan) {
      if (this.failed) return;
      const wait = step.atMs - this.now();
      if (wait > 0) await sleep(wait); // the schedule is the input: when each fault happens
      const atMs = this.now();
      const fault = describeFault(step.fault);
      this.progress(atMs, which, fault);
      const detail = await apply(step.fault).catch((err: unknown) => {
        this.failed = true;
        throw err;
      });
      this.applied.push({ atMs, lane: which, fault, detail });
      if (detail) this.progress(this.now(), which, `  -> ${detail}`);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async agentFault(f: AgentFault): Promise<string> {
    switch (f.kind) {
      case 'rotate':
        return this.rotate(f.copyPauseMs);
      case 'rotate+signal': {
        const rotated = await this.rotate();
        await sleep(f.afterMs);
        return `${rotated}; ${await this.restart(f.signal, `${f.signal} ${f.afterMs} ms after ${rotated}`, f.downMs)}`;
      }
      case 'signal':
        return this.restart(f.signal, `${f.signal} at random`, f.downMs);
      case 'behind': {
        const down = await this.restart('SIGTERM', `SIGTERM to leave it behind for ${f.downMs} ms`, f.downMs, 'burst');
        await sleep(f.rotateAfterMs);
        const rotated = await this.rotate();
        await sleep(f.afterMs);
        return `${down}; ${rotated}; ${await this.restart(f.signal, `${f.signal} ${f.afterMs} ms after ${rotated} while behind`, 0)}`;
      }
      case 'burst':
        return `${await this.burst(f.ms)} requests`;
      case 'agent-hup':
        this.x.agents.current!.signal('SIGHUP');
        return `agent #${this.x.agents.current!.n}`;
      case 'nginx-hup':
        this.x.nginx.signal('SIGHUP');
        return '';
    }
  }

  private async brokerFault(f: BrokerFault): Promise<string> {
    switch (f.kind) {
      case 'broker-stop': {
        await this.stopBroker();
        const down = this.now();
        await sleep(f.holdMs);
        await this.startBroker();
        return `stopped at ${secs(down)}, answering again at ${secs(this.now())}`;
      }
      case 'broker-freeze': {
        this.x.broker.set(false);
        const how = await this.x.output.freeze(this.brokerFreezes++);
        await sleep(f.holdMs);
        await this.x.output.thaw();
        this.x.broker.set(true);
        return `${how}, undone at ${secs(this.now())}`;
      }
      case 'broker-fill':
        return this.exclusive(() => this.fill(f.maxFillMs, f.holdFullMs));
    }
  }

  /** logrotate now; with copytruncate and `copyPauseMs`, frozen part-way through its copy that long. */
  private async rotate(copyPauseMs = 0): Promise<string> {
    const { logrotate } = this.x;
    let paused = '';
    if (copyPauseMs > 0) {
      const frozen = await logrotate.rotatePausedMidCopy(COPY_PAUSE_AT_BYTES, async ({ bytes, of }) => {
        paused = `, frozen with ${bytes} of ${of} bytes copied`;
        await sleep(copyPauseMs);
      });
      if (!frozen) paused = ', the copy was whole before logrotate could be frozen';
    } else {
      await logrotate.rotate();
    }
    this.rotations.push({ n: logrotate.rotations, atMs: this.now() });
    return `logrotate #${logrotate.rotations} (${logrotate.mode}${paused})`;
  }

  /** nginx as fast as wrk drives it, for `ms`; resolves with the requests made. */
  private async burst(ms: number): Promise<number> {
    const wrk = new Wrk(this.x.t, this.x.nginx.url('/'), { threads: 1, connections: 16, durationSeconds: Math.max(1, Math.round(ms / 1000)), script: this.x.fastScript });
    return (await wrk.done).requests;
  }

  /** Ends the agent, waits `downMs` (or runs an unpaced burst that long), starts the next one. */
  private async restart(signal: AgentSignal, why: string, downMs: number, whileDown: 'wait' | 'burst' = 'wait'): Promise<string> {
    const { agents } = this.x;
    const before = agents.current!;
    const end = await agents.end(signal, why);
    const exit = before.exit!.signal ?? `exit ${before.exit!.code}`;
    const burst = whileDown === 'burst' ? await this.burst(downMs) : (await sleep(downMs), 0);
    const next = await agents.start();
    return `agent #${before.n} ${exit} [${end}], ${burst ? `${burst} requests meanwhile, ` : ''}#${next.n} started ${downMs} ms later`;
  }

  private async stopBroker(): Promise<void> {
    this.x.broker.set(false);
    this.brokerStops++;
    this.brokerStopTimes.push(Date.now());
    await this.x.output.stop();
  }

  private async startBroker(): Promise<void> {
    await this.x.output.restart();
    this.x.broker.set(true);
  }

  /**
   * The broker down while nginx runs unpaced until the spool's filesystem
   * is full (or `maxFillMs`), `holdFullMs` more, then back; the same agent
   * must then drain its spool and catch up by itself.
   */
  private async fill(maxFillMs: number, holdFullMs: number): Promise<string> {
    const { spoolMount } = this.x;
    const agent = this.x.agents.current!;
    await agent.scrape();
    const spoolFullErrors = () => agent.metrics.get(SPOOL_FULL_ERRORS) ?? 0;
    const fullBefore = spoolFullErrors();
    await this.stopBroker();
    const wrk = new Wrk(this.x.t, this.x.nginx.url('/'), { threads: 1, connections: 16, durationSeconds: Math.ceil(maxFillMs / 1000) + 1, script: this.x.fastScript });
    const free = () => (spoolMount ? statfsSync(spoolMount) : undefined);
    // Full: the agent says so (a batch no longer fits), or next to no space is left.
    const full = await waitFor(
      'the spool filesystem to fill',
      async () => {
        const fs = free();
        await agent.scrape();
        return spoolFullErrors() > fullBefore || (fs !== undefined && fs.bavail / fs.blocks < FULL_BELOW_FREE);
      },
      maxFillMs,
      100,
    ).catch(() => false);
    const { requests } = await wrk.stop();
    const fs = free();
    const usage = fs ? `${(100 * (1 - fs.bavail / fs.blocks)).toFixed(0)}% of the spool's filesystem used` : 'no small filesystem';
    await sleep(holdFullMs); // full, the broker still down, the paced load going on
    await this.startBroker();
    const back = this.now();
    const resumed = await deliveryResumed(agent);
    if (!resumed.ok) this.findings.push(`delivery did not resume after the spool's filesystem filled (${usage}; broker back at ${secs(back)}; agent #${agent.n}, see agent-${agent.n}.log): ${resumed.state}`);
    return `${requests} requests while down, ${full ? 'filesystem full' : 'not full'} (${usage}); broker back at ${secs(back)}; ${resumed.state}`;
  }
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
