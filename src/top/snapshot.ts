/**
 * What `logship top` reads of one scrape of an agent's /metrics. Every
 * figure is optional: an agent of another version may lack a series, and
 * the view shows "–" for it rather than a wrong 0.
 */
import type { Sample } from './prometheus-text.ts';

/** The series top reads (src/observe/metrics.ts serves them). */
export const METRICS = {
  linesRead: 'logship_lines_read_total',
  recordsSent: 'logship_records_sent_total',
  parseErrors: 'logship_parse_errors_total',
  deadLetters: 'logship_dead_letter_records_total',
  fileLagBytes: 'logship_file_lag_bytes',
  fileLagSeconds: 'logship_file_lag_seconds',
  spoolBytes: 'logship_spool_bytes',
  spoolEntries: 'logship_spool_entries',
  spoolOldestAge: 'logship_spool_oldest_age_seconds',
  inFlightBatches: 'logship_in_flight_batches',
  outputUp: 'logship_output_up',
} as const;

export interface InputCounters {
  linesRead?: number;
  recordsSent?: number;
  parseErrors?: number;
  /** Summed over the reasons. */
  deadLetters?: number;
}

export interface FileGauges {
  path: string;
  input: string;
  lagBytes?: number;
  lagSeconds?: number;
}

export interface AgentSnapshot {
  /** When it was scraped (ms since the epoch): rates divide by the time between two. */
  at: number;
  /** By input name. */
  inputs: Map<string, InputCounters>;
  /** By path and input. */
  files: Map<string, FileGauges>;
  spoolBytes?: number;
  spoolEntries?: number;
  spoolOldestAgeSeconds?: number;
  inFlightBatches?: number;
  /** By output name: 1 up, 0 down. */
  outputs: Map<string, number>;
}

const INPUT_COUNTERS: [string, keyof InputCounters][] = [
  [METRICS.linesRead, 'linesRead'],
  [METRICS.recordsSent, 'recordsSent'],
  [METRICS.parseErrors, 'parseErrors'],
  [METRICS.deadLetters, 'deadLetters'],
];

export function snapshotOf(samples: readonly Sample[], at: number): AgentSnapshot {
  const snapshot: AgentSnapshot = { at, inputs: new Map(), files: new Map(), outputs: new Map() };
  const counterOf = new Map(INPUT_COUNTERS);
  for (const { name, labels, value } of samples) {
    const counter = counterOf.get(name);
    if (counter !== undefined) {
      // A series without an input label (an older agent) has no row to go to.
      if (labels.input === undefined) continue;
      const counters = snapshot.inputs.get(labels.input) ?? {};
      counters[counter] = (counters[counter] ?? 0) + value;
      snapshot.inputs.set(labels.input, counters);
    } else if (name === METRICS.fileLagBytes || name === METRICS.fileLagSeconds) {
      if (labels.path === undefined) continue;
      const input = labels.input ?? '';
      const id = `${input}\0${labels.path}`;
      const file = snapshot.files.get(id) ?? { path: labels.path, input };
      if (name === METRICS.fileLagBytes) file.lagBytes = value;
      else file.lagSeconds = value;
      snapshot.files.set(id, file);
    } else if (name === METRICS.spoolBytes) snapshot.spoolBytes = value;
    else if (name === METRICS.spoolEntries) snapshot.spoolEntries = value;
    else if (name === METRICS.spoolOldestAge) snapshot.spoolOldestAgeSeconds = value;
    else if (name === METRICS.inFlightBatches) snapshot.inFlightBatches = value;
    else if (name === METRICS.outputUp) snapshot.outputs.set(labels.output ?? '', value);
  }
  return snapshot;
}
