/**
 * Readiness for a Type=notify unit: the agent, started with NOTIFY_SOCKET as
 * systemd starts it, sends READY=1 there through systemd-notify once it
 * follows its files, Kafka reachable or not. The socket is a real Unix
 * datagram socket, bound by systemd-socket-activate (Node cannot bind one).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { waitFor } from '../support/wait.ts';

test('the agent tells systemd it is ready (READY=1 on NOTIFY_SOCKET), even while Kafka is unreachable', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'notify');
  const received = join(dir, 'received');
  // One datagram from the socket into `received` (dd reads once).
  const listener = spawn('systemd-socket-activate', ['--datagram', '-l', socket, 'sh', '-c', `dd bs=65536 count=1 status=none <&3 > ${received}`], { stdio: 'ignore' });
  t.after(() => listener.kill());
  await waitFor('the notify socket', () => existsSync(socket));

  writeFileSync(join(dir, 'access.log'), '');
  const config = writeConfig(dir, {
    inputs: [{ paths: [join(dir, 'access.log')], format: 'combined' }],
    kafka: { brokers: ['127.0.0.1:1'], topic: 'unused', connection_timeout_ms: 200 },
    state_dir: join(dir, 'state'),
  });
  const agent = new AgentProcess(['run', '--config', config], { ...process.env, NOTIFY_SOCKET: socket });
  t.after(() => agent.stop());
  await agent.waitForLog('logship running');
  const message = await waitFor('a notification on the socket', () => (existsSync(received) ? readFileSync(received, 'utf8') : ''));
  assert.match(message, /^READY=1$/m);
  assert.match(message, /^STATUS=/m);
  assert.equal(agent.logs.find((l) => l.msg.includes('systemd-notify')), undefined, 'no warning about systemd-notify');
});
