/**
 * What a reload (SIGHUP) does with each setting: applies it to the running
 * agent, or leaves it at its running value and names it as needing a
 * restart. One table, so that no setting is ignored silently; a setting
 * missing from it (added later) needs a restart until it is classified.
 */
import type { Config } from './types.ts';

export type ReloadAction = 'applied' | 'restart';

/**
 * By setting path; a path covers the settings under it. Inputs are
 * applied one by one (added ones start, removed ones stop, changed ones
 * restart), so `inputs` covers each input's settings.
 */
export const RELOAD_RULES: Readonly<Record<string, ReloadAction>> = {
  inputs: 'applied',
  // Another output (or another server) is a new producer.
  output: 'restart',
  'kafka.brokers': 'restart',
  'kafka.client_id': 'restart',
  // Applied by compiling every input's routing again: the lines read from then on go by the new templates.
  'kafka.topic': 'applied',
  'kafka.key': 'applied',
  'kafka.dead_letter_topic': 'applied',
  'kafka.message_format': 'restart',
  'kafka.acks': 'restart',
  'kafka.idempotent': 'restart',
  'kafka.compression': 'restart',
  'kafka.max_message_bytes': 'restart',
  'kafka.request_timeout_ms': 'restart',
  'kafka.connection_timeout_ms': 'restart',
  'kafka.retry_backoff_ms': 'restart',
  'kafka.retry_backoff_max_ms': 'restart',
  'kafka.max_in_flight': 'restart',
  'kafka.tls': 'restart',
  'kafka.sasl': 'restart',
  'batch.max_records': 'restart',
  'batch.max_bytes': 'restart',
  // The batch opened next closes by the new one.
  'batch.linger_ms': 'applied',
  state_dir: 'restart',
  host: 'restart',
  log_level: 'applied',
  'metrics.enabled': 'restart',
  'metrics.listen': 'restart',
  'metrics.tap': 'restart',
  'spool.enabled': 'restart',
  'spool.dir': 'restart',
  'spool.max_bytes': 'restart',
  'spool.segment_bytes': 'restart',
  'spool.fsync': 'restart',
  'spool.fsync_interval_ms': 'restart',
  'spool.when_full': 'restart',
  'spool.keep_order': 'restart',
  // Read when the agent stops (or a reload waits for replaced inputs).
  shutdown_timeout_ms: 'applied',
};

/** The rule for `path`: its own, or the nearest enclosing setting's; restart when none. */
export function reloadAction(path: string): ReloadAction {
  for (let at = path; at !== ''; at = at.slice(0, Math.max(0, at.lastIndexOf('.')))) {
    const action = RELOAD_RULES[at];
    if (action !== undefined) return action;
  }
  return 'restart';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Paths of the settings that differ, as precisely as the values allow (arrays are one setting; inputs are one). */
export function changedSettings(current: unknown, next: unknown, prefix = ''): string[] {
  if (prefix === 'inputs' || !isObject(current) || !isObject(next)) return JSON.stringify(current) === JSON.stringify(next) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(current), ...Object.keys(next)])].sort();
  return keys.flatMap((key) => changedSettings(current[key], next[key], prefix === '' ? key : `${prefix}.${key}`));
}

export interface ReloadPlan {
  /** Changed settings the reload applies. */
  applied: string[];
  /** Changed settings that keep their running value until a restart. */
  restart: string[];
}

export function reloadPlan(current: Config, next: Config): ReloadPlan {
  const changed = changedSettings(current, next);
  return { applied: changed.filter((path) => reloadAction(path) === 'applied'), restart: changed.filter((path) => reloadAction(path) === 'restart') };
}

/** `current` with the values of `next` at `paths` (the applied settings): what runs after the reload. */
export function withSettings(current: Config, next: Config, paths: readonly string[]): Config {
  const out = structuredClone(current) as unknown as Record<string, unknown>;
  for (const path of paths) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let into = out;
    let from: unknown = next;
    for (const key of keys) {
      if (!isObject(into[key])) into[key] = {};
      into = into[key] as Record<string, unknown>;
      from = isObject(from) ? from[key] : undefined;
    }
    const value = isObject(from) ? from[last] : undefined;
    if (value === undefined) delete into[last];
    else into[last] = structuredClone(value);
  }
  return out as unknown as Config;
}
