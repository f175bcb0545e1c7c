/**
 * The chaos run, short, in the suite: two scenarios of about half a minute
 * each (scenario.ts: real nginx under load, real logrotate, SIGKILL and
 * SIGTERM of the agent mid hand-over and while far behind, broker stops and
 * freezes, the spool on a 4 MiB filesystem, reloads), counted by
 * `$request_id` against nginx's truth log.
 *
 * The two scenarios are a pair that covers both path styles and both
 * rotation styles, picked by the seed's parity: even, `access.log` with
 * copytruncate and `access.log*` with create; odd, `access.log` with create
 * and `access.log*` with copytruncate. Two runs of either parity cover all
 * four; `npm run chaos` runs all four, longer. The seed is random unless
 * CHAOS_SEED is set, and printed with the command that repeats a scenario.
 *
 * Asserted: no line on disk lost, duplicates within the bound (bound.ts),
 * in all and per agent process, no dead letters, nothing nginx never
 * wrote, delivery resuming by itself after a broker outage filled the
 * spool's filesystem, and every agent process's peak RSS within the bound
 * it states for its settings (logship_memory_bound_bytes).
 *
 * Covers what test/e2e/chaos.test.ts did (SIGKILLs at random instants and
 * broker outages, every line by id, duplicates bounded), with nginx and
 * logrotate in the loop, so it replaces it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RotateMode } from '../support/nginx.ts';
import { chaosOutput } from './outputs.ts';
import { describeDeadLetters, describeDuplicates, describeLost } from './ground-truth.ts';
import { randomSeed } from './prng.ts';
import { report, verdict } from './report.ts';
import { runScenario, scenarioName, type PathsMode } from './scenario.ts';

const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomSeed();
const DURATION_MS = 20_000;
const RATE = 1_500;
const SPOOL_FS_BYTES = 4 * 2 ** 20;

const PAIRS: { paths: PathsMode; rotate: RotateMode }[][] = [
  [
    { paths: 'single', rotate: 'copytruncate' },
    { paths: 'glob', rotate: 'create' },
  ],
  [
    { paths: 'single', rotate: 'create' },
    { paths: 'glob', rotate: 'copytruncate' },
  ],
];

// Its own broker: the scenarios stop and freeze it.
const kafka = chaosOutput('kafka');
before(() => kafka.start());
after(() => kafka.close());

for (const { paths, rotate } of PAIRS[SEED % 2]!) {
  test(`chaos, short: ${scenarioName(paths, rotate)}, seed ${SEED} (CHAOS_SEED=${SEED} repeats it)`, { timeout: 240_000 }, async (t) => {
    const result = await runScenario(t, { paths, rotate, seed: SEED, durationMs: DURATION_MS, rate: RATE, output: kafka, spoolFsBytes: SPOOL_FS_BYTES, keep: false, say: (line) => t.diagnostic(line) });
    const v = verdict(result, 'stated');
    for (const line of report(result, v, 'stated').split('\n')) t.diagnostic(line);
    const c = result.counts;
    assert.equal(c.lost, 0, describeLost(c));
    assert.ok(c.duplicates <= result.bound.total, `${describeDuplicates(c)}, over the bound ${result.bound.formula}`);
    assert.equal(c.deadLetters, 0, describeDeadLetters(c));
    assert.equal(c.unexpected, 0, `${c.unexpected} records nginx never wrote`);
    assert.deepEqual(result.findings, [], 'delivery resumes by itself after the spool filled');
    assert.deepEqual(v.failures, [], 'every agent process within its own duplicate budget and its memory bound; the harness agrees with itself');
  });
}
