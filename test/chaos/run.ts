/**
 * `npm run chaos`: the agent against real nginx under load, real logrotate,
 * SIGKILL and SIGTERM, broker stops and freezes and a small filesystem under
 * the spool, shipping to Kafka, RabbitMQ or Redis (--output, outputs.ts), counted against nginx's own truth log (see scenario.ts,
 * ground-truth.ts, bound.ts). By default every combination of
 * `paths: [access.log]` / `[access.log*]` and create / copytruncate
 * rotation, one after another, each with the same seeded fault schedule.
 *
 * Exit: 0 every scenario passed; 1 one failed (lost lines, duplicates over
 * the bound, dead letters, RSS over the bound); 2 the harness itself failed.
 */
import { execFileSync } from 'node:child_process';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { RotateMode } from '../support/nginx.ts';
import { Cleanup } from './cleanup.ts';
import { chaosOutput, OUTPUT_KINDS } from './outputs.ts';
import { randomSeed } from './prng.ts';
import { peakRss, report, table, verdict, type RssRule } from './report.ts';
import { runScenario, scenarioName, type PathsMode, type ScenarioResult } from './scenario.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('npm run chaos --')
  .usage('$0 [options]\n\nChaos run of the agent against real nginx, logrotate and Kafka (or RabbitMQ, or Redis); counts lost and duplicated lines by $request_id.')
  .options({
    output: { choices: OUTPUT_KINDS, default: 'kafka' as const, describe: 'What the agent ships to (a local server of that kind, which the broker faults stop and freeze) and the count reads back' },
    duration: { type: 'number', default: 90, describe: 'Seconds of load and faults per scenario' },
    paths: { choices: ['single', 'glob', 'both'] as const, default: 'both' as const, describe: 'The agent follows access.log (single), access.log* (glob), or each in turn' },
    rotate: { choices: ['create', 'copytruncate', 'both'] as const, default: 'both' as const, describe: 'logrotate style, or each in turn' },
    seed: { type: 'number', describe: 'Seed of the fault schedule (printed; default: a random one)' },
    rate: { type: 'number', default: 2000, describe: 'Paced nginx load, requests/s (0: as fast as wrk goes); bursts come on top' },
    'spool-fs-mib': { type: 'number', default: 4, describe: 'Size of the filesystem the spool lives on' },
    'max-rss-mib': { type: 'number', describe: "Peak RSS bound per agent process (default: the bound the agent states for its settings, logship_memory_bound_bytes, or that of the run's settings for an agent killed before it said)" },
    keep: { type: 'boolean', default: false, describe: 'Keep each scenario directory (logs, truth, agent logs, state) for a post-mortem' },
  })
  .strict()
  .version(false)
  .help()
  .parseSync();

const say = (text: string) => process.stdout.write(`[chaos] ${text}\n`);
const seed = argv.seed ?? randomSeed();
const rss: RssRule = argv['max-rss-mib'] === undefined ? 'stated' : { fixed: argv['max-rss-mib'] * 2 ** 20 };
const pathsModes: PathsMode[] = argv.paths === 'both' ? ['single', 'glob'] : [argv.paths];
const rotateModes: RotateMode[] = argv.rotate === 'both' ? ['create', 'copytruncate'] : [argv.rotate];
const combinations = pathsModes.flatMap((paths) => rotateModes.map((rotate) => ({ paths, rotate })));

function agentUnderTest(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return `${rev}${dirty ? ` + uncommitted changes in ${dirty} files under src/` : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

const root = new Cleanup();
let scenarioCleanup: Cleanup | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping every process this run started`);
    void (async () => {
      await scenarioCleanup?.run();
      await root.run();
      process.exit(130);
    })();
  });
}

say(`seed ${seed}; ${combinations.map((c) => scenarioName(c.paths, c.rotate, argv.output)).join(', ')}; ${argv.duration} s each at ${argv.rate || 'unpaced'} requests/s`);
say(`agent under test: ${agentUnderTest()}`);
let exitCode = 0;
const results: { result: ScenarioResult; passed: boolean }[] = [];
try {
  const output = chaosOutput(argv.output);
  say(`starting a local ${output.name} (its own: the run stops and freezes it)`);
  root.after(() => output.close());
  await output.start();
  for (const { paths, rotate } of combinations) {
    scenarioCleanup = new Cleanup();
    try {
      const result = await runScenario(scenarioCleanup, {
        paths,
        rotate,
        seed,
        durationMs: argv.duration * 1000,
        rate: argv.rate,
        output,
        spoolFsBytes: argv['spool-fs-mib'] * 2 ** 20,
        keep: argv.keep,
        say,
      });
      const v = verdict(result, rss);
      process.stdout.write(`\n${report(result, v, rss)}\n\n`);
      results.push({ result, passed: v.passed });
      if (!v.passed) exitCode = 1;
    } finally {
      await scenarioCleanup.run();
      scenarioCleanup = undefined;
    }
  }
} catch (err) {
  say(`harness failure: ${(err as Error).stack ?? String(err)}`);
  exitCode = 2;
} finally {
  await root.run();
}

if (results.length > 0) {
  say(`summary (seed ${seed}, agent ${agentUnderTest()}):`);
  process.stdout.write(
    `${table(
      results.map(({ result: r, passed }) => ({
        scenario: r.name,
        verdict: passed ? 'passed' : 'FAILED',
        written: r.counts.written,
        lost: r.counts.lost,
        duplicates: r.counts.duplicates,
        bound: r.bound.total,
        'dead letters': r.counts.deadLetters,
        'peak RSS MiB': Math.round(peakRss(r) / 2 ** 20),
        agents: r.agents.length,
        faults: r.faults.length,
      })),
    )}\n`,
  );
}
process.exit(exitCode);
