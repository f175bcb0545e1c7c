/**
 * The agent processes of one chaos run, one at a time: started, signalled,
 * started again, each ending classified for the duplicate bound (bound.ts).
 */
import { join } from 'node:path';
import { AgentRun } from './agent-run.ts';
import type { AgentEnd } from './bound.ts';

interface After {
  after(fn: () => unknown): void;
}

/** Whether the broker is stopped or frozen now, and a count of its changes (to see one during a drain). */
export interface BrokerState {
  healthy: boolean;
  changes: number;
}

/** The broker's state as the fault lanes set it. */
export class BrokerHealth {
  state: BrokerState = { healthy: true, changes: 0 };

  set(healthy: boolean): void {
    this.state = { healthy, changes: this.state.changes + 1 };
  }
}

export class Agents {
  readonly runs: AgentRun[] = [];
  readonly ends: AgentEnd[] = [];
  private readonly config: string;
  private readonly dir: string;
  private readonly graceMs: number;
  private readonly broker: () => BrokerState;

  /** `graceMs`: how long a SIGTERM may take before the harness calls it hung and kills it. */
  constructor(t: After, dir: string, config: string, graceMs: number, broker: () => BrokerState) {
    this.dir = dir;
    this.config = config;
    this.graceMs = graceMs;
    this.broker = broker;
    t.after(() => Promise.all(this.runs.map((r) => r.stop('SIGKILL', 5_000))));
  }

  get current(): AgentRun | undefined {
    const last = this.runs[this.runs.length - 1];
    return last?.running ? last : undefined;
  }

  /** Starts the next agent (the previous one must have exited) and waits until it runs. */
  async start(): Promise<AgentRun> {
    if (this.current) throw new Error(`harness: agent #${this.current.n} still runs`);
    const n = this.runs.length + 1;
    const run = new AgentRun(n, this.config, join(this.dir, `agent-${n}.log`));
    this.runs.push(run);
    await run.ready();
    return run;
  }

  /** Ends the running agent with `signal`; returns what the ending was, for the bound and the report. */
  async end(signal: 'SIGTERM' | 'SIGKILL', why: string): Promise<AgentEnd> {
    const run = this.current;
    if (!run) throw new Error('harness: no agent runs');
    let end: AgentEnd;
    if (signal === 'SIGKILL') {
      await run.stop('SIGKILL', this.graceMs);
      end = 'sigkill';
    } else {
      await run.scrape();
      const spooled = (run.metrics.get('logship_spool_entries') ?? 0) > 0;
      const before = this.broker();
      const exit = await run.stop('SIGTERM', this.graceMs);
      const after = this.broker();
      const timedOut = exit.forced || exit.code !== 0 || run.logs.some((l) => l.msg.startsWith('shutdown timeout'));
      const brokerFault = !before.healthy || !after.healthy || before.changes !== after.changes;
      end = timedOut ? 'sigterm-timeout' : brokerFault || spooled ? 'sigterm-during-fault' : 'sigterm-clean';
      if (exit.forced) why += `; did not exit within ${this.graceMs} ms of SIGTERM, killed`;
    }
    run.endedBy = why;
    this.ends.push(end);
    return end;
  }
}
