/**
 * The agent's counters. Plain objects of numbers: cheap enough to bump on
 * the hot path; the metrics endpoint reads them. Counters of what an input
 * reads and makes of it are per input (each input's encoder and tailer
 * hold their input's object, so counting takes no lookup); the others are
 * the agent's.
 */
export const INPUT_COUNTERS = [
  'lines_read',
  'bytes_read',
  'records_parsed',
  'parse_errors',
  'lines_dropped',
  'records_filtered',
  'records_sampled_out',
  'lines_truncated',
  'lines_too_long_skipped',
  /** Records acknowledged by Kafka on their own topic (dead letters and spool replays not included). */
  'records_sent',
  'files_opened',
  'files_closed_idle',
  'rotations',
  'partial_lines_flushed',
  'container_malformed_lines',
  'container_long_messages',
  'open_errors',
  'read_errors',
  'truncations',
  'backpressure_pauses',
  'files_recovered',
  'lost_files',
  'lost_bytes',
  'compressed_files_skipped',
] as const;

/** Why a record went to the dead-letter topic: a closed set, the `reason` label. */
export const DEAD_LETTER_REASONS = ['parse_error', 'too_large'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export const AGENT_COUNTERS = [
  'batches_sent',
  'batch_send_errors',
  'batches_spooled',
  'records_spooled',
  'batches_replayed',
  'records_replayed',
  /** Records the output could not route (RabbitMQ returned them, a Redis key that is not a stream): sent to its dead-letter destination. */
  'records_unroutable',
] as const;

export type InputCounterName = (typeof INPUT_COUNTERS)[number];
export type AgentCounterName = (typeof AGENT_COUNTERS)[number];
export type CounterName = InputCounterName | AgentCounterName;

/** One input's counters; `dead_letters` by reason. */
export type InputCounters = Record<InputCounterName, number> & { dead_letters: Record<DeadLetterReason, number> };

/** Every kind `logship_errors_total` counts (describeKafkaError's kinds and the spool's): each has a series (0) from the start. */
export const ERROR_KINDS = ['auth', 'tls', 'authorization', 'unreachable', 'unknown_topic', 'invalid_topic', 'too_large', 'timeout', 'other', 'spool_full', 'spool_io'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

function zeros<T extends string>(names: readonly T[]): Record<T, number> {
  return Object.fromEntries(names.map((name) => [name, 0])) as Record<T, number>;
}

export function inputCounters(): InputCounters {
  return { ...zeros(INPUT_COUNTERS), dead_letters: zeros(DEAD_LETTER_REASONS) };
}

export class Stats {
  /** The agent's own counters (delivery, spool). */
  readonly agent: Record<AgentCounterName, number> = zeros(AGENT_COUNTERS);
  /**
   * By input name. An input removed by a reload keeps its counters (they
   * must not go down if it comes back): the series are bounded by the
   * inputs ever configured while the process runs.
   */
  readonly inputs = new Map<string, InputCounters>();
  /** Errors by kind. */
  readonly errors = new Map<ErrorKind, number>(ERROR_KINDS.map((kind) => [kind, 0]));
  inFlight = 0;

  /** The counters of the input `name`, made on first use: held by that input's encoder and tailer. */
  input(name: string): InputCounters {
    let counters = this.inputs.get(name);
    if (!counters) this.inputs.set(name, (counters = inputCounters()));
    return counters;
  }

  inc(name: AgentCounterName, by = 1): void {
    this.agent[name] += by;
  }

  error(kind: ErrorKind): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  /** Every counter summed over inputs, by its name (dead letters as dead_letters_<reason>): the `stopped` log line, tests. */
  get counters(): Record<CounterName, number> & Record<`dead_letters_${DeadLetterReason}`, number> {
    const totals = { ...zeros(INPUT_COUNTERS), ...this.agent, ...zeros(DEAD_LETTER_REASONS.map((r) => `dead_letters_${r}` as const)) };
    for (const counters of this.inputs.values()) {
      for (const name of INPUT_COUNTERS) totals[name] += counters[name];
      for (const reason of DEAD_LETTER_REASONS) totals[`dead_letters_${reason}`] += counters.dead_letters[reason];
    }
    return totals;
  }

  /** Set by the metrics module: receives the duration of each acknowledged produce request. */
  onSendDuration: ((seconds: number) => void) | undefined;
}
