/**
 * `logship health` (the image's HEALTHCHECK) against a real agent: it probes
 * /healthz where the configuration, or LOGSHIP_METRICS_LISTEN, puts it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { healthUrl } from '../../src/cli/health-command.ts';
import { AgentProcess, CLI, tempDir } from '../support/agent.ts';
import { freePort } from '../support/free-port.ts';
import { runProcess, type ProcessResult } from '../support/run-process.ts';

function health(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI, 'health', ...args], { env });
}

/** A configuration for an agent that needs no broker to answer /healthz (it keeps trying one that is not there). */
function config(dir: string, metrics?: Record<string, unknown>): string {
  const file = join(dir, `logship-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(join(dir, 'idle.log'), '');
  writeFileSync(file, stringify({ inputs: [{ paths: [join(dir, 'idle.log')], format: 'combined' }], kafka: { brokers: ['127.0.0.1:9'], topic: 't' }, state_dir: join(dir, 'state'), shutdown_timeout_ms: 1000, ...(metrics ? { metrics } : {}) }));
  return file;
}

test("health probes the configuration's metrics.listen: 0 while the agent answers, 1 once it is gone", async (t) => {
  const dir = tempDir(t);
  const file = config(dir, { listen: `127.0.0.1:${await freePort()}` });
  const agent = new AgentProcess(['run', '--config', file]);
  t.after(() => agent.stop('SIGKILL'));
  const { address } = await agent.waitForLog('metrics and health endpoints listening');
  const { port } = address as { port: number };
  const up = await health(['--config', file]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, `http://127.0.0.1:${port}/healthz: 200 ok\n`);
  await agent.stop();
  const down = await health(['--config', file]);
  assert.equal(down.code, 1);
  assert.equal(down.stdout, `http://127.0.0.1:${port}/healthz: no answer (ECONNREFUSED)\n`);
});

test('a wildcard listen address is probed on loopback', () => {
  assert.equal(healthUrl('0.0.0.0:9598', 'test').href, 'http://127.0.0.1:9598/healthz');
  assert.equal(healthUrl('[::]:9598', 'test').href, 'http://[::1]:9598/healthz');
  assert.equal(healthUrl('[fd00::1]:9598', 'test').href, 'http://[fd00::1]:9598/healthz');
  assert.equal(healthUrl('metrics.internal:9598', 'test').href, 'http://metrics.internal:9598/healthz');
});

test('with no metrics.listen in the file, health probes LOGSHIP_METRICS_LISTEN, as the agent listens there', async (t) => {
  const dir = tempDir(t);
  const file = config(dir);
  const env = { ...process.env, LOGSHIP_METRICS_LISTEN: `127.0.0.1:${await freePort()}` };
  const agent = new AgentProcess(['run', '--config', file], env);
  t.after(() => agent.stop('SIGKILL'));
  await agent.waitForLog('metrics and health endpoints listening');
  const up = await health(['--config', file], env);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, `http://${env.LOGSHIP_METRICS_LISTEN}/healthz: 200 ok\n`);
});

test('nothing to probe: metrics disabled, port 0, no configuration: exit 2 and why', async (t) => {
  const dir = tempDir(t);
  const disabled = await health(['--config', config(dir, { enabled: false })]);
  assert.equal(disabled.code, 2);
  assert.match(disabled.stderr, /metrics\.enabled is false: no \/healthz to probe/);
  const anyPort = await health(['--config', config(dir, { listen: '127.0.0.1:0' })]);
  assert.equal(anyPort.code, 2);
  assert.match(anyPort.stderr, /127\.0\.0\.1:0: not a host:port to probe/);
  const none = await health([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give --config FILE/);
});
