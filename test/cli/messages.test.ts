/** What an operator reads when a command line or a configuration is wrong: the setting or flag, what is allowed, a guess. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, writeConfig } from '../support/agent.ts';
import { testBrokers } from '../support/kafka.ts';
import { logship, type CliResult } from './logship-cli.ts';

function show(what: string, result: CliResult): void {
  process.stdout.write(`# ${what} -> exit ${result.code}\n#   ${(result.stdout + result.stderr).trim().replace(/\n/g, '\n#   ')}\n`);
}

test('metrics.listen with a port beyond 65535: check and run refuse it by name (no RangeError)', async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, { inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }], kafka: { brokers: ['127.0.0.1:1'], topic: 't' }, state_dir: join(dir, 'state'), metrics: { listen: 'localhost:99999' } });
  for (const command of ['check', 'run']) {
    const result = await logship([command, '--config', config], { timeoutMs: 15_000 });
    show(command, result);
    assert.equal(result.code, 2);
    assert.match(result.stdout + result.stderr, /metrics\.listen: must be host:port \(a port 0-65535/);
    assert.doesNotMatch(result.stdout + result.stderr, /RangeError|pattern/);
  }
});

test('flags only, without --brokers: the message names the flag', async (t) => {
  const dir = tempDir(t);
  const result = await logship(['run', '--path', join(dir, '*.log'), '--format', 'combined', '--topic', 't', '--state-dir', dir]);
  show('run without --brokers', result);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /give --brokers/);
  assert.doesNotMatch(result.stderr, /missing required setting "kafka"/);
});

test('a preset name that is close to one: did you mean', async (t) => {
  const dir = tempDir(t);
  for (const command of ['check', 'run']) {
    const result = await logship([command, '--path', join(dir, '*.log'), '--format', 'combind', '--brokers', '127.0.0.1:1', '--topic', 't', '--state-dir', dir], { timeoutMs: 15_000 });
    show(command, result);
    assert.equal(result.code, 2);
    assert.match(result.stdout + result.stderr, /unknown format preset "combind"; .*; did you mean "combined"\?/);
  }
  const parse = await logship(['parse', '--format', 'upstreaminf']);
  show('parse', parse);
  assert.equal(parse.code, 2);
  assert.match(parse.stderr, /did you mean "upstreaminfo"\?/);
});

test('a command that is close to one: did you mean', async () => {
  const result = await logship(['chek', '--config', 'x.yaml']);
  show('chek', result);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Did you mean check\?/);
});

test('an illegal topic name on the command line is one, not a topic that "does not exist"', async (t) => {
  const dir = tempDir(t);
  const result = await logship(['check', '--path', join(dir, '*.log'), '--format', 'combined', '--brokers', testBrokers().join(','), '--topic', 'nginx logs', '--state-dir', dir]);
  show('check --topic "nginx logs"', result);
  assert.equal(result.code, 2);
  assert.match(result.stdout, /kafka\.topic: illegal Kafka topic name/);
  assert.doesNotMatch(result.stdout, /does not exist/);
});
