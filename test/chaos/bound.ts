/**
 * How many duplicates a run may have: the delivery contract, per fault.
 * F = kafka.max_in_flight, B = batch.max_records (a batch never holds more).
 *
 * - SIGKILL of the agent: (F + 1) x B. A batch settles (acked by Kafka, or
 *   durable in the spool) before its lines' checkpoint is on disk, and
 *   Delivery counts it as in flight until the checkpoint is (so at most F
 *   such batches, README: "a crash repeats at most the max_in_flight
 *   batches whose checkpoints were not on disk yet"); a batch sent but not
 *   yet answered is one of them too, and the broker may have appended it.
 *   Those lines are read again from the checkpoint. Plus one spool entry:
 *   replay sends one entry at a time, and one acked by Kafka whose cursor
 *   move is not on disk yet is sent again.
 * - SIGTERM: 0 when it is clean (every batch acked, checkpoints saved,
 *   exit 0). B when the broker was stopped or frozen at that moment or the
 *   spool held entries: the replayed entry in flight when the producer
 *   closes may have been appended without an answer. (F + 1) x B when the
 *   drain ran out of time (the agent logs "shutdown timeout") or the
 *   harness had to SIGKILL it: then it is a crash.
 * - Broker stop (controlled shutdown): F x B. The one produce request in
 *   flight (Delivery sends one at a time, at most the F queued batches
 *   merged) may be appended by the broker and its answer lost with the
 *   connection; the agent spools it and replays it. kafkajs' own retries
 *   meet a closed port, not a broker, so they append nothing.
 * - Broker freeze: 0. Freezes are shorter than the agent's request timeout
 *   (the schedule keeps them so), so no request times out: the thawed
 *   broker answers every request it holds. A freeze longer than the
 *   timeout would make kafkajs send again (up to its 3 retries per
 *   attempt, and Delivery's attempts go on), each copy appended at the
 *   thaw: unbounded by anything but time, so the chaos run does not do it.
 * - SIGHUP (agent or nginx), rotations, bursts: 0.
 *
 * The sum over a run is the run's bound. It is also checked per agent
 * process (scenario.ts): the extra copies a process sent (Kafka's
 * timestamp of a message is when kafkajs encoded it, so the sender is
 * known) stay within what its predecessor's end allows, plus F x B per
 * broker stop in their time. So duplicates where nothing was killed, such
 * as a file read twice while running, fail a run even when the sum is
 * under the bound.
 */

export interface BoundSettings {
  maxInFlight: number;
  maxRecords: number;
}

/** What ended one agent process, as far as duplicates are concerned. */
export type AgentEnd = 'sigkill' | 'sigterm-clean' | 'sigterm-during-fault' | 'sigterm-timeout';

export interface BoundTerm {
  what: string;
  count: number;
  each: number;
  total: number;
}

export interface Bound {
  total: number;
  terms: BoundTerm[];
  /** The formula with the figures, e.g. "3 SIGKILL x (4 + 1) x 500 + 1 broker stop x 4 x 500 = 9,500". */
  formula: string;
}

export function perAgentEnd(end: AgentEnd, s: BoundSettings): number {
  switch (end) {
    case 'sigkill':
    case 'sigterm-timeout':
      return (s.maxInFlight + 1) * s.maxRecords;
    case 'sigterm-during-fault':
      return s.maxRecords;
    case 'sigterm-clean':
      return 0;
  }
}

export function duplicateBound(ends: AgentEnd[], brokerStops: number, brokerFreezes: number, s: BoundSettings): Bound {
  const n = (end: AgentEnd) => ends.filter((e) => e === end).length;
  const F = s.maxInFlight;
  const B = s.maxRecords;
  const terms: (Omit<BoundTerm, 'total'> & { formula: string })[] = [
    { what: 'SIGKILL', count: n('sigkill'), each: perAgentEnd('sigkill', s), formula: `(${F} + 1) x ${B}` },
    { what: 'SIGTERM that timed out', count: n('sigterm-timeout'), each: perAgentEnd('sigterm-timeout', s), formula: `(${F} + 1) x ${B}` },
    { what: 'SIGTERM during a broker fault or spool replay', count: n('sigterm-during-fault'), each: perAgentEnd('sigterm-during-fault', s), formula: `${B}` },
    { what: 'clean SIGTERM', count: n('sigterm-clean'), each: 0, formula: '0' },
    { what: 'broker stop', count: brokerStops, each: F * B, formula: `${F} x ${B}` },
    { what: 'broker freeze', count: brokerFreezes, each: 0, formula: '0' },
  ];
  const used = terms.filter((t) => t.count > 0);
  const total = used.reduce((sum, t) => sum + t.count * t.each, 0);
  const formula = used.length === 0 ? '0 (no fault that may repeat a line)' : `${used.map((t) => `${t.count} ${t.what} x ${t.formula}`).join(' + ')} = ${total.toLocaleString('en-US')}`;
  return { total, terms: used.map(({ formula: _f, ...t }) => ({ ...t, total: t.count * t.each })), formula };
}
