/**
 * The end of a run: wait until the agent has shipped all it will. Done when
 * the agent says so (no lag, nothing in flight, an empty spool) and the
 * output's destinations have held still for a while; given up when nothing at all moved
 * (messages in the output, lines read) for longer. Either way the count that follows
 * reports exact figures: a stalled agent shows up as lost lines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentRun } from './agent-run.ts';

export interface SettleOptions {
  /** Idle and still this long: done. */
  idleQuietMs?: number;
  /** Nothing moved this long: stalled. */
  stalledMs?: number;
  timeoutMs?: number;
}

export interface Settled {
  outcome: string;
  idle: boolean;
  ms: number;
}

/** `size`: how many messages the output holds so far (any figure that moves when they do; -1 when it cannot tell). */
export async function settle(agent: AgentRun, size: () => Promise<number | string>, options: SettleOptions = {}): Promise<Settled> {
  const { idleQuietMs = 3_000, stalledMs = 20_000, timeoutMs = 300_000 } = options;
  const start = Date.now();
  let last = '';
  let movedAt = start;
  while (true) {
    const sizes = await size();
    await agent.scrape();
    const m = agent.metrics;
    const state = `${sizes}|${m.get('logship_lines_read_total')}`;
    if (state !== last) {
      last = state;
      movedAt = Date.now();
    }
    const idle = m.get('logship_file_lag_bytes') === 0 && m.get('logship_in_flight_batches') === 0 && (m.get('logship_spool_entries') ?? 0) === 0;
    const quiet = Date.now() - movedAt;
    const ms = Date.now() - start;
    if (idle && quiet >= idleQuietMs) return { outcome: 'the agent is idle (no lag, nothing in flight, empty spool)', idle, ms };
    if (quiet >= stalledMs) {
      const state = `lag ${m.get('logship_file_lag_bytes')} bytes, ${m.get('logship_in_flight_batches')} in flight, ${m.get('logship_spool_entries')} spool entries`;
      return { outcome: `STALLED: nothing moved for ${stalledMs / 1000} s (${state})`, idle, ms };
    }
    if (ms >= timeoutMs) return { outcome: `TIMED OUT after ${timeoutMs / 1000} s, still moving`, idle, ms };
    await sleep(500);
  }
}

/**
 * After an outage that filled the spool: delivery must resume by itself,
 * without a restart. ok once the spool is empty and the agent has caught
 * up with the files (lag under `caughtUpBytes`: the paced load goes on);
 * not ok when the agent made no progress (spool entries, records sent,
 * lines read; the lag grows with the load either way) for `stalledMs`.
 */
export async function deliveryResumed(agent: AgentRun, caughtUpBytes = 1 << 20, stalledMs = 20_000, timeoutMs = 180_000): Promise<{ ok: boolean; state: string }> {
  const start = Date.now();
  let last = '';
  let movedAt = start;
  while (true) {
    await agent.scrape();
    const m = agent.metrics;
    const entries = m.get('logship_spool_entries');
    const lag = m.get('logship_file_lag_bytes') ?? NaN;
    const progress = `spool ${entries} entries / ${m.get('logship_spool_bytes')} bytes, ${m.get('logship_records_sent_total')} records sent, ${m.get('logship_lines_read_total')} lines read`;
    const state = `${progress}, lag ${lag} bytes`;
    if (entries === 0 && lag < caughtUpBytes) return { ok: true, state: `spool drained and caught up ${((Date.now() - start) / 1000).toFixed(1)} s after the broker came back` };
    if (!agent.running) return { ok: false, state: `the agent exited (${JSON.stringify(agent.exit)}) with ${state}` };
    if (progress !== last) {
      last = progress;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt >= stalledMs) return { ok: false, state: `STALLED: nothing moved for ${stalledMs / 1000} s: ${state}` };
    if (Date.now() - start >= timeoutMs) return { ok: false, state: `not caught up ${timeoutMs / 1000} s after the broker came back: ${state}` };
    await sleep(500);
  }
}
