/**
 * An idle agent (`npm run bench:idle`): what the agent as installed costs
 * while nothing is written, fresh and after a busy spell (bench/idle-run.ts
 * says how each figure is taken; `npm run bench` takes them too). Numbers
 * only.
 *
 *   node bench/idle.ts [--lines 1000000] [--seconds 30] [--settle 10]
 *                      [--agent-flags="--max-semi-space-size=4"]
 *
 * Environment variables reach the agent (e.g. MALLOC_ARENA_MAX=2 npm run bench:idle).
 * Uses KAFKA_BROKERS or starts a local Kafka.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import { agentNodeFlags } from '../scripts/agent-launch.ts';
import { measureIdle, mib, per30s } from './idle-run.ts';
import { loadAverage } from './proc-stats.ts';
import { BenchResources, runBench } from './run-bench.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const res = new BenchResources();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '30' },
      settle: { type: 'string', default: '10' },
      'agent-flags': { type: 'string', default: '' },
    },
  });
  const started = Date.now();
  const say = (text: string) => process.stdout.write(`[idle ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
  const agentFlags = values['agent-flags'].split(' ').filter(Boolean);
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'NODE_OPTIONS').map(([k, v]) => `${k}=${v}`);
  say(`building dist/ (npm run build); agent: ${[...env, 'node', ...agentNodeFlags(), ...agentFlags].join(' ')} bin/logship.js; load ${loadAverage()}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (!brokers) {
    say('starting a local Kafka...');
    res.kafka = new LocalKafka();
    brokers = await res.kafka.start();
  }
  const dir = (res.dir = mkdtempSync(join(tmpdir(), 'logship-bench-idle-')));
  const r = await measureIdle({
    brokers,
    dir,
    lines: Number(values.lines),
    seconds: Number(values.seconds),
    settle: Number(values.settle),
    agentFlags,
    say,
    started: (a) => (res.agent = a),
  });
  res.agent = undefined;
  const after = r.afterBusy ? ` / after busy ${per30s(r.afterBusy).toFixed(3)}` : '';
  const afterRss = r.afterBusy ? ` / after busy ${mib(r.afterBusy.rss)}` : '';
  console.log(`\nidle CPU fresh ${per30s(r.fresh).toFixed(3)}${after} CPU-s per 30 s; RSS fresh ${mib(r.fresh.rss)}${afterRss}; peak ${mib(r.peakRss)}; load ${loadAverage()}`);
}

await runBench(main, res.cleanUpSync, () => res.kafka);
