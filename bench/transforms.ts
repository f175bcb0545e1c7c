/**
 * What each transform costs per line: the agent's LineEncoder (decode,
 * parse, transforms, JSON, headers) on generated `combined` traffic, one
 * core, without and with each transform. `npm run bench:transforms
 * [-- --lines N --rounds R]`. Cases take turns round after round (the
 * machine's drift hits all alike); best round of each. Every case keeps
 * every record (the filter matches nothing here, always_keep keeps what the
 * sampling would drop), so the differences are the transforms' own cost.
 * Numbers only; nothing asserts them.
 */
import { parseArgs } from 'node:util';
import type { TransformsConfig } from '../src/config/types.ts';
import { encoderStage } from './encoder-stage.ts';
import { generateLines } from './generate-lines.ts';
import { BENCH_TRANSFORMS } from './transforms-case.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' } } });
const COUNT = Number(values.lines);
const ROUNDS = Number(values.rounds);
const ENV = { BENCH_SECRET: 'bench secret' };

const CASES: [string, TransformsConfig | undefined][] = [
  ['none', undefined],
  ['filter (== and ~ on every line)', { filter: BENCH_TRANSFORMS.filter }],
  ['sample 1 in 10 by remote_addr, always_keep', { sample: BENCH_TRANSFORMS.sample }],
  ['privacy.ip truncate (remote_addr)', { privacy: { ip: { mode: 'truncate', ipv4_prefix: 24, ipv6_prefix: 48 }, dead_letter_raw: 'redact' } }],
  ['privacy.ip hash (remote_addr)', { privacy: { secret_env: 'BENCH_SECRET', ip: { mode: 'hash', ipv4_prefix: 24, ipv6_prefix: 48 }, dead_letter_raw: 'redact' } }],
  ['privacy.redact_query (default names)', { privacy: { redact_query: { replacement: 'REDACTED' }, dead_letter_raw: 'redact' } }],
  ['privacy.headers hash http_user_agent', { privacy: { secret_env: 'BENCH_SECRET', headers: { hash: ['http_user_agent'] }, dead_letter_raw: 'redact' } }],
  ['enrich.user_agent', { enrich: { user_agent: true, user_agent_field: 'http_user_agent' } }],
  ['fields drop 2, rename 1, add 1', { fields: { drop: ['time_local', 'request'], rename: { remote_addr: 'client' }, add: { dc: 'fra1' }, source: 'both' } }],
  ['fields.source headers', { fields: { source: 'headers' } }],
  ['filter + sample + ip truncate', BENCH_TRANSFORMS],
];

const data = Buffer.from([...generateLines({ format: 'combined', count: COUNT, seed: 42 })].join('\n') + '\n');
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, transforms] of CASES) {
    const stage = encoderStage('combined', data, { transforms, env: ENV, rounds: 1 });
    if (stage.stats.counters.records_filtered + stage.stats.counters.records_sampled_out > 0) throw new Error(`${name}: records dropped; the case must keep every record`);
    best.set(name, Math.min(best.get(name) ?? Infinity, stage.nsPerLine));
  }
}
const none = best.get('none')!;
console.log(`logship transforms bench: ${COUNT.toLocaleString('en-US')} generated combined lines, LineEncoder on one core, best of ${ROUNDS} rounds, node ${process.version}`);
console.log(`${'case'.padEnd(46)}${'ns/line'.padStart(9)}${'+ns'.padStart(8)}${'+%'.padStart(8)}`);
for (const [name] of CASES) {
  const ns = best.get(name)!;
  console.log(`${name.padEnd(46)}${ns.toFixed(0).padStart(9)}${(ns - none).toFixed(0).padStart(8)}${(((ns - none) / none) * 100).toFixed(1).padStart(8)}`);
}
