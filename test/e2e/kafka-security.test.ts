/**
 * TLS, mTLS and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) against a real
 * broker with those listeners and users made by Kafka's own tools. Secrets
 * reach the agent by environment variable or file, and never its log.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalKafka, type SaslUser } from '../../scripts/kafka/local-kafka.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { topicSize as messagesIn } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const kafka = new LocalKafka({ security: true });
before(() => kafka.start(), { timeout: 120_000 });
after(() => kafka.stop());

/** Messages in a topic of this file's broker (throws until the agent has created it; waitFor retries). */
const topicSize = (topic: string) => messagesIn(topic, kafka.brokers);

interface Run {
  agent: AgentProcess;
  output: () => string;
}

function run(t: { after(fn: () => void): void }, topic: string, kafkaSettings: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Run {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, combinedLines(0, 20));
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { topic, retry_backoff_ms: 100, retry_backoff_max_ms: 1000, ...kafkaSettings },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
    log_level: 'debug',
    shutdown_timeout_ms: 2000,
  });
  const agent = new AgentProcess(['run', '--config', config], { ...process.env, ...env });
  t.after(() => agent.stop('SIGKILL'));
  return { agent, output: () => JSON.stringify(agent.logs) + agent.stderr };
}

const tls = () => ({ enabled: true, ca_file: kafka.security.tls.caFile });

test('TLS: records arrive over an encrypted connection checked against the CA', async (t) => {
  const { agent } = run(t, 'over-tls', { brokers: [kafka.security.listeners.ssl], tls: tls() });
  await waitFor('records over TLS', async () => (await topicSize('over-tls')) === 20);
  assert.equal((await agent.stop()).code, 0);
});

test('mTLS: the client certificate opens the listener that requires one', async (t) => {
  const { agent } = run(t, 'over-mtls', {
    brokers: [kafka.security.listeners.mtls],
    tls: { ...tls(), cert_file: kafka.security.tls.clientCertFile, key_file: kafka.security.tls.clientKeyFile },
  });
  await waitFor('records over mTLS', async () => (await topicSize('over-mtls')) === 20);
  assert.equal((await agent.stop()).code, 0);
});

for (const which of ['plain', 'scramSha256', 'scramSha512'] as const) {
  test(`SASL ${which}: authenticated with a password from the environment or a file, never logged`, async (t) => {
    const user: SaslUser = kafka.security.users[which];
    const topic = `sasl-${which.toLowerCase()}`;
    const fromFile = which !== 'plain';
    const dir = tempDir(t);
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, user.password + '\n', { mode: 0o600 });
    const { agent, output } = run(
      t,
      topic,
      {
        brokers: [kafka.security.listeners.saslSsl],
        tls: tls(),
        sasl: { mechanism: user.mechanism, username: user.username, ...(fromFile ? { password_file: passwordFile } : { password_env: 'KAFKA_TEST_PASSWORD' }) },
      },
      fromFile ? {} : { KAFKA_TEST_PASSWORD: user.password },
    );
    await waitFor(`records over SASL ${user.mechanism}`, async () => (await topicSize(topic)) === 20);
    assert.equal((await agent.stop()).code, 0);
    assert.ok(!output().includes(user.password), 'the password appears in the agent output');
  });
}

test('wrong credentials: a clear error, the agent stays up (no crash loop), the secret is not logged', async (t) => {
  const user = kafka.security.users.scramSha512;
  const wrong = `${user.password}-wrong`;
  const { agent, output } = run(
    t,
    'never',
    { brokers: [kafka.security.listeners.saslSsl], tls: tls(), sasl: { mechanism: user.mechanism, username: user.username, password_env: 'KAFKA_TEST_PASSWORD' } },
    { KAFKA_TEST_PASSWORD: wrong },
  );
  const error = await agent.waitForLog('Kafka rejected the credentials');
  assert.match(error.msg, /check kafka\.sasl/);
  // It keeps trying with backoff instead of exiting: several failed attempts (kafkajs logs each at debug level).
  await waitFor('several failed attempts', () => agent.logs.filter((l) => /authentication failed/i.test(JSON.stringify(l))).length >= 3);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  assert.equal((await agent.stop()).code, 0);
  assert.ok(!output().includes(wrong) && !output().includes(user.password), 'a password appears in the agent output');
});

test('an untrusted broker certificate is a clear TLS error', async (t) => {
  const { agent } = run(t, 'untrusted', { brokers: [kafka.security.listeners.ssl], tls: { enabled: true } });
  const error = await agent.waitForLog('TLS handshake');
  assert.match(error.msg, /check kafka\.tls/);
  assert.equal((await agent.stop()).code, 0);
});

test('/readyz: not ready while Kafka refuses the credentials (a retry will not fix it), ready again once they are fixed', async (t) => {
  // A user the broker does not know yet: the operator's fix is to create it with this password.
  const user: SaslUser = { mechanism: 'scram-sha-512', username: 'late-user', password: `late-${Date.now()}` };
  const { agent } = run(
    t,
    'after-fix',
    { brokers: [kafka.security.listeners.saslSsl], tls: tls(), sasl: { mechanism: user.mechanism, username: user.username, password_env: 'KAFKA_TEST_PASSWORD' } },
    { KAFKA_TEST_PASSWORD: user.password },
  );
  await agent.waitForLog('Kafka rejected the credentials');
  const notReady = await waitFor('/readyz refusing', async () => {
    const r = await agent.http('/readyz');
    return r.status === 503 ? r : undefined;
  });
  assert.match(notReady.body, /^not ready: Kafka rejected the credentials .*check kafka\.sasl.* \(auth: retries will not fix it\)\n/);
  const down = (await agent.http('/metrics')).body;
  assert.match(down, /^logship_output_up\{output="kafka"\} 0$/m);
  assert.match(down, /^logship_errors_total\{kind="auth"\} [1-9]/m);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');

  await kafka.setScramUser(user);
  await waitFor('records after the fix', async () => (await topicSize('after-fix')) === 20, 60_000);
  const ready = await agent.http('/readyz');
  assert.equal(ready.status, 200, ready.body);
  assert.match(ready.body, /^ready: Kafka takes batches\n/);
  assert.match((await agent.http('/metrics')).body, /^logship_output_up\{output="kafka"\} 1$/m);
  assert.equal((await agent.stop()).code, 0);
});
