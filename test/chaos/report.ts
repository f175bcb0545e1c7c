/**
 * The verdict and the report of a chaos scenario: the figures first (lost,
 * duplicates and their bound, dead letters, peak RSS), then where lost and
 * duplicated lines were on disk, the agent processes and the faults with
 * their times. Tables are Node's own console.table.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import type { ScenarioResult } from './scenario.ts';

const MiB = 2 ** 20;
const n = (x: number) => x.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

export interface Verdict {
  passed: boolean;
  failures: string[];
}

export function peakRss(r: ScenarioResult): number {
  return Math.max(0, ...r.agents.map((a) => a.peakRssBytes));
}

/** How RSS is judged: against a bound given, or against the bound of the agent's settings. */
export type RssRule = { fixed: number } | 'stated';

/** The bound each agent states for its settings and files; for one killed before it said, the bound of the run's settings. */
function rssBound(r: ScenarioResult, a: ScenarioResult['agents'][number], rule: RssRule): { bytes: number; source: string } {
  if (rule !== 'stated') return { bytes: rule.fixed, source: 'given' };
  return a.memoryBoundBytes !== undefined ? { bytes: a.memoryBoundBytes, source: 'stated by the agent' } : { bytes: r.configMemoryBoundBytes, source: "the run's settings" };
}

/**
 * Fails on lost lines, duplicates over the bound (in all and per agent
 * process), dead letters, records nginx never wrote, findings, a harness
 * whose own figures disagree, and (unless `rss` is undefined) an agent
 * process whose peak RSS exceeds its bound.
 */
export function verdict(r: ScenarioResult, rss: RssRule | undefined): Verdict {
  const c = r.counts;
  const failures: string[] = [];
  if (c.lost > 0) failures.push(`${n(c.lost)} of ${n(c.onDisk)} lines on disk never reached the output (${r.options.output})`);
  if (c.duplicates > r.bound.total) failures.push(`${n(c.duplicates)} duplicates exceed the bound of ${n(r.bound.total)}`);
  // Per process too: duplicates where no kill (or broker stop) explains them, e.g. a copy read twice while running.
  for (const a of r.agents) {
    if (a.duplicatesSent > a.budget) failures.push(`agent #${a.n} sent ${n(a.duplicatesSent)} duplicates; how its predecessor ended (${a.after}) and the broker stops in their time allow ${n(a.budget)}`);
  }
  if (c.deadLetters > 0) failures.push(`${n(c.deadLetters)} lines went to the dead-letter destination`);
  if (c.unexpected > 0) failures.push(`${n(c.unexpected)} records in the output (${r.options.output}) that nginx never wrote`);
  if (rss !== undefined) {
    for (const a of r.agents) {
      const bound = rssBound(r, a, rss);
      if (a.peakRssBytes > bound.bytes) failures.push(`agent #${a.n} peak RSS ${mib(a.peakRssBytes)} over its bound of ${mib(bound.bytes)} (${bound.source})`);
    }
  }
  failures.push(...r.findings);
  for (const w of r.warnings) if (w.startsWith('harness')) failures.push(w);
  return { passed: failures.length === 0, failures };
}

/** console.table into a string. */
export function table(rows: unknown, columns?: string[]): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  new Console({ stdout: sink, colorMode: false }).table(rows, columns);
  return out.trimEnd();
}

export function report(r: ScenarioResult, v: Verdict, rss: RssRule): string {
  const c = r.counts;
  const o = r.options;
  const lines: string[] = [];
  lines.push(`== ${r.name}: seed ${o.seed}, ${o.durationMs / 1000} s, load ${o.rate || 'unpaced'} requests/s, spool on ${r.spoolFs} == ${v.passed ? 'PASSED' : 'FAILED'}`);
  const rotatedAt = (file: string) => {
    const m = /\.(\d+)$/.exec(file);
    if (!m) return 'live file';
    const rot = r.rotations[r.rotations.length - Number(m[1])];
    return rot ? `rotation #${rot.n} at ${secs(rot.atMs)}` : '?';
  };
  lines.push(
    table({
      'written (truth log)': `${n(c.written)}${r.nginxCounted === undefined ? '' : ` (nginx counted ${n(r.nginxCounted)})`}`,
      'on disk at the end': `${n(c.onDisk)}${c.notOnDisk ? ` (+${n(c.notOnDisk)} only in copytruncate's copy-to-truncate windows, ${n(c.notOnDiskDelivered)} of them shipped anyway)` : ''}`,
      'delivered (distinct)': n(c.deliveredDistinct),
      'messages in the output': n(c.messages),
      lost: n(c.lost),
      duplicates: `${n(c.duplicates)} (${n(c.resent)} re-sent with the same logship-id, ${n(c.reread)} read again from another file or offset)`,
      'duplicate bound': `${n(r.bound.total)} = ${r.bound.formula}`,
      'dead letters': n(c.deadLetters),
      'parse errors (agents)': n(r.parseErrors),
      'records nginx never wrote': n(c.unexpected),
      'peak RSS': `${mib(peakRss(r))} (max of ${r.agents.length} agent processes); bound ${rss === 'stated' ? 'as each agent states it for its settings (logship_memory_bound_bytes)' : mib(rss.fixed)}`,
      'rotations': `${r.rotations.length} (${o.rotate})`,
      'end': `${r.settle.outcome}, after ${secs(r.settle.ms)}`,
    }),
  );
  if (c.lostByFile.length > 0) {
    lines.push('lost lines by file (line numbers in the file at the end):');
    lines.push(table(c.lostByFile.map((f) => ({ file: f.file, 'its content until': rotatedAt(f.file), lines: f.lines, lost: f.lost, 'first lost': f.firstLost, 'last lost': f.lastLost }))));
    lines.push('some lost request ids:');
    lines.push(table(c.lostSamples));
  }
  if (c.duplicateSamples.length > 0) {
    lines.push('some duplicated request ids (logship-id of each copy):');
    lines.push(table(c.duplicateSamples));
  }
  if (c.deadLetterSamples.length > 0) {
    lines.push('some dead letters:');
    lines.push(table(c.deadLetterSamples.map((d) => ({ reason: d.reason, 'read from': d.path ?? '-', 'on disk': d.file ? `${d.file}:${d.line}` : '-', raw: d.raw }))));
  }
  lines.push("agent processes (duplicates sent: extra copies whose timestamp falls in its lifetime; may re-send: what its predecessor's end allows, plus F x B per broker stop in their time):");
  lines.push(
    table(
      r.agents.map((a) => ({
        '#': a.n,
        pid: a.pid,
        started: secs(a.startedAtMs),
        ended: secs(a.endedAtMs),
        exit: a.exit,
        'stop took': secs(a.stopMs),
        'ended by': a.endedBy,
        'peak RSS': mib(a.peakRssBytes),
        'RSS bound': mib(rssBound(r, a, rss).bytes),
        'lines read': a.linesRead,
        'duplicates sent': a.duplicatesSent,
        'may re-send': a.budget,
      })),
    ),
  );
  lines.push('faults applied:');
  const faults = [...r.faults].sort((x, y) => x.atMs - y.atMs);
  lines.push(table(faults.map((f) => ({ at: secs(f.atMs), lane: f.lane, fault: f.fault, detail: f.detail }))));
  for (const f of r.findings) lines.push(`finding: ${f}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const f of v.failures) lines.push(`FAIL: ${f}`);
  lines.push(o.keep ? `kept for a post-mortem: ${r.dir} (truth.log, logs/, agent-N.log, state/, logship.yaml)` : `repeat: npm run chaos -- --output ${o.output} --paths ${o.paths} --rotate ${o.rotate} --seed ${o.seed} --duration ${o.durationMs / 1000} --rate ${o.rate} --keep`);
  return lines.join('\n');
}
