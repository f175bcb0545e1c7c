/**
 * One rule for `run` and `check` (src/cli/exit-codes.ts, README "Exit
 * codes"): 2 for anything a retry will not fix, 1 for what may fix itself.
 * Each bad setting is tried with both commands; the message names the
 * setting, and `run` says it once, without a stack.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, writeConfig } from '../support/agent.ts';
import { logship, type CliResult } from './logship-cli.ts';

/** Nothing listens on port 1: Kafka is unreachable at once, which `run` survives and `check` counts as retryable. */
const NO_KAFKA = ['127.0.0.1:1'];

function baseConfig(dir: string): Record<string, unknown> {
  return { inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }], kafka: { brokers: NO_KAFKA, topic: 't' }, state_dir: join(dir, 'state') };
}

function show(what: string, result: CliResult): void {
  process.stdout.write(`# ${what} -> exit ${result.code}\n#   ${(result.stdout + result.stderr).trim().replace(/\n/g, '\n#   ')}\n`);
}

/** `run` exits at start-up here: give it a few seconds, not the test's whole timeout, should it start instead. */
async function runAndCheck(what: string, config: string, env: NodeJS.ProcessEnv = process.env): Promise<{ run: CliResult; check: CliResult }> {
  const run = await logship(['run', '--config', config], { env, timeoutMs: 15_000 });
  show(`run (${what})`, run);
  const check = await logship(['check', '--config', config], { env, timeoutMs: 15_000 });
  show(`check (${what})`, check);
  return { run, check };
}

function saidOnce(result: CliResult, text: string): void {
  const all = result.stdout + result.stderr;
  assert.equal(all.split(text).length - 1, 1, `"${text}" said once:\n${all}`);
  assert.doesNotMatch(all, /"stack"|\n\s+at /, 'no stack trace');
}

const cases: { what: string; change: (config: Record<string, unknown>, dir: string) => void; env?: NodeJS.ProcessEnv; says: RegExp; once: string }[] = [
  {
    what: 'a log format with an unknown escaping',
    change: (c) => ((c.inputs as Record<string, unknown>[])[0]!.format = 'escape=bogus $remote_addr'),
    says: /inputs\[0\]\.format: unknown log format escaping "bogus"/,
    once: 'unknown log format escaping',
  },
  {
    what: 'a topic template naming a field the format does not have',
    change: (c) => ((c.kafka as Record<string, unknown>).topic = 'nginx-{{ nope }}'),
    says: /kafka\.topic: "\{\{ nope \}\}" in "nginx-\{\{ nope \}\}" is not a field of the log format/,
    once: 'is not a field of the log format',
  },
  {
    what: 'a SASL password variable that is not set',
    change: (c) => ((c.kafka as Record<string, unknown>).sasl = { mechanism: 'plain', username: 'u', password_env: 'LOGSHIP_TEST_UNSET_PASSWORD' }),
    says: /kafka\.sasl\.password_env.*LOGSHIP_TEST_UNSET_PASSWORD is not set/s,
    once: 'LOGSHIP_TEST_UNSET_PASSWORD is not set',
  },
  {
    what: 'a TLS CA file that does not exist',
    change: (c, dir) => ((c.kafka as Record<string, unknown>).tls = { ca_file: join(dir, 'no-such-ca.pem') }),
    says: /kafka\.tls\.ca_file.*no-such-ca\.pem: ENOENT/s,
    once: 'no-such-ca.pem: ENOENT',
  },
  {
    what: 'a state_dir that cannot be created (under a regular file)',
    change: (c, dir) => {
      writeFileSync(join(dir, 'a-file'), '');
      c.state_dir = join(dir, 'a-file', 'state');
    },
    says: /state_dir .*a-file\/state.*ENOTDIR/,
    once: 'ENOTDIR',
  },
];

for (const { what, change, says, once: text, env } of cases) {
  test(`${what}: run and check both exit 2 and name the setting`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'access.log'), '');
    const config = baseConfig(dir);
    change(config, dir);
    const { run, check } = await runAndCheck(what, writeConfig(dir, config), env);
    assert.equal(run.code, 2, 'run');
    assert.match(run.stderr, says);
    saidOnce(run, text);
    assert.equal(check.code, 2, 'check');
    assert.match(check.stdout, says);
  });
}

test('metrics.listen on an address another program holds: run exits 2 naming the setting', async (t) => {
  const dir = tempDir(t);
  const holder = createServer().listen(0, '127.0.0.1');
  t.after(() => holder.close());
  await once(holder, 'listening');
  const listen = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
  const run = await logship(['run', '--config', writeConfig(dir, { ...baseConfig(dir), metrics: { listen } })], { timeoutMs: 15_000 });
  show('run (metrics.listen in use)', run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, new RegExp(`metrics\\.listen ${listen}: .*in use`));
  saidOnce(run, 'in use');
});

test('check: a problem a retry may fix (Kafka unreachable) exits 1', async (t) => {
  const dir = tempDir(t);
  const check = await logship(['check', '--config', writeConfig(dir, baseConfig(dir))], { timeoutMs: 15_000 });
  show('check (Kafka unreachable)', check);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /✘ kafka 127\.0\.0\.1:1: cannot reach Kafka/);
});

test('check creates no directory: state_dir and spool.dir that do not exist yet are reported creatable and left for the agent to make', async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'not-yet', 'state');
  const check = await logship(['check', '--config', writeConfig(dir, { ...baseConfig(dir), state_dir: state })], { timeoutMs: 15_000 });
  show('check (state_dir not yet made)', check);
  assert.match(check.stdout, new RegExp(`✔ state_dir ${state}: writable`));
  assert.match(check.stdout, new RegExp(`✔ spool\\.dir ${state}/spool: writable`));
  // Made by check as root, they would belong to root, and the agent's own user could not write them.
  assert.equal(existsSync(join(dir, 'not-yet')), false);
});
