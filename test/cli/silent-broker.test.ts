/**
 * A broker address whose port accepts TCP connections but never answers
 * (another service's port, a TLS listener spoken to in plaintext, a hung
 * proxy): `check` gives up within seconds and says so, naming the broker;
 * `run` says the same within seconds of starting (and keeps trying, as for
 * any Kafka trouble). A real TCP server that accepts and stays silent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { logship } from './logship-cli.ts';

async function silentServer(t: TestContext): Promise<{ broker: string; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { broker: `127.0.0.1:${(server.address() as AddressInfo).port}`, accepted: () => accepted };
}

test('check: a broker port that accepts but never answers is named within seconds', async (t) => {
  const dir = tempDir(t);
  const { broker, accepted } = await silentServer(t);
  const result = await logship(['check', '--path', join(dir, '*.log'), '--format', 'combined', '--brokers', broker, '--topic', 't', '--state-dir', dir], { timeoutMs: 60_000 });
  process.stdout.write(`# check against a silent port took ${result.ms} ms, exit ${result.code}:\n#   ${result.stdout.trim().replace(/\n/g, '\n#   ')}\n`);
  assert.ok(accepted() > 0, 'the check connected');
  assert.equal(result.code, 1, 'a retry may fix it (the broker may be starting)');
  assert.ok(result.ms < 12_000, `took ${result.ms} ms`);
  assert.match(result.stdout, new RegExp(`✘ kafka ${broker}: ${broker} accepts TCP connections but does not answer as Kafka`));
  assert.match(result.stdout, /TLS/);
  assert.doesNotMatch(result.stdout, /Broker not connected/);
});

test('run: the same is logged within seconds of starting, and the agent keeps running', async (t) => {
  const dir = tempDir(t);
  const { broker } = await silentServer(t);
  const started = Date.now();
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, { inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }], kafka: { brokers: [broker], topic: 't' }, state_dir: join(dir, 'state') })]);
  t.after(() => agent.stop('SIGKILL'));
  const line = await agent.waitForLog('accepts TCP connections but does not answer as Kafka', () => true, 15_000);
  const ms = Date.now() - started;
  process.stdout.write(`# run logged after ${ms} ms: ${line.msg}\n`);
  assert.ok(ms < 12_000, `took ${ms} ms`);
  assert.equal(line.level, 50, 'an error');
  assert.ok(line.msg.includes(broker));
  assert.equal(agent.child.exitCode, null, 'still running');
  // Not stopped with SIGTERM here: closing the producer waits out its own first connect (request_timeout_ms).
});
