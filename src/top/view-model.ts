/**
 * What `logship top` shows, from two successive scrapes: rates are the
 * counters' growth over the time between them; the rest is the latest
 * scrape's. undefined = not known (no such series, or no earlier scrape).
 */
import type { AgentSnapshot, FileGauges, InputCounters } from './snapshot.ts';

export interface InputRow {
  input: string;
  linesPerSecond?: number;
  ackedPerSecond?: number;
  parseErrors?: number;
  deadLetters?: number;
  /** Its files' lag, summed. */
  lagBytes?: number;
  /** Its most lagging file's. */
  lagSeconds?: number;
  files: number;
}

export interface TopView {
  inputs: InputRow[];
  /** Most lagging first. */
  files: FileGauges[];
  spoolBytes?: number;
  spoolEntries?: number;
  spoolOldestAgeSeconds?: number;
  inFlightBatches?: number;
  outputs: { output: string; up: boolean }[];
}

function rate(current: number | undefined, previous: number | undefined, seconds: number): number | undefined {
  if (current === undefined || previous === undefined || !(seconds > 0)) return undefined;
  // A counter that went down started again (the agent restarted): what it counts now is all new.
  return (current >= previous ? current - previous : current) / seconds;
}

function sum(values: (number | undefined)[]): number | undefined {
  return values.reduce<number | undefined>((total, v) => (v === undefined ? total : (total ?? 0) + v), undefined);
}

function max(values: (number | undefined)[]): number | undefined {
  return values.reduce<number | undefined>((most, v) => (v === undefined ? most : Math.max(most ?? v, v)), undefined);
}

export function topView(current: AgentSnapshot, previous: AgentSnapshot | undefined): TopView {
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000;
  const files = [...current.files.values()].sort((a, b) => (b.lagBytes ?? -1) - (a.lagBytes ?? -1) || a.path.localeCompare(b.path));
  const names = new Set([...current.inputs.keys(), ...files.map((f) => f.input)]);
  const inputs = [...names].sort().map((input): InputRow => {
    const now: InputCounters = current.inputs.get(input) ?? {};
    const before: InputCounters = previous?.inputs.get(input) ?? {};
    const own = files.filter((f) => f.input === input);
    return {
      input,
      linesPerSecond: rate(now.linesRead, before.linesRead, seconds),
      ackedPerSecond: rate(now.recordsSent, before.recordsSent, seconds),
      parseErrors: now.parseErrors,
      deadLetters: now.deadLetters,
      lagBytes: sum(own.map((f) => f.lagBytes)),
      lagSeconds: max(own.map((f) => f.lagSeconds)),
      files: own.length,
    };
  });
  return {
    inputs,
    files,
    spoolBytes: current.spoolBytes,
    spoolEntries: current.spoolEntries,
    spoolOldestAgeSeconds: current.spoolOldestAgeSeconds,
    inFlightBatches: current.inFlightBatches,
    outputs: [...current.outputs].sort(([a], [b]) => a.localeCompare(b)).map(([output, up]) => ({ output, up: up === 1 })),
  };
}
