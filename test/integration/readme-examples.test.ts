/**
 * The README's examples as written, against Debian's nginx laid out as
 * Debian lays it out (access.log and error.log side by side, the `combined`
 * format of Debian's stock /etc/nginx/nginx.conf), a comma-separated
 * KAFKA_BROKERS, and the real Kafka, records read back with kcat.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AgentProcess, tempDir } from '../support/agent.ts';
import { createTopic, readTopic, testBrokers } from '../support/kafka.ts';
import { Nginx, requireTool } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';

/** Debian's own nginx.conf (the nginx package's): it defines no log_format, its access_log is `combined`. */
const DEBIAN_NGINX_CONF = '/etc/nginx/nginx.conf';

/** `/var/log/nginx` of a Debian host: nginx's access.log, a site's *.access.log (same requests) and error.log. */
async function debianNginx(t: TestContext): Promise<{ dir: string; logs: string; nginx: Nginx }> {
  await Promise.all([requireTool('nginx', '-v'), requireTool('kcat', '-V')]);
  const dir = tempDir(t, 'logship-readme-');
  const logs = join(dir, 'nginx');
  const nginx = await Nginx.start(t, logs, { accessLog: join(logs, 'access.log'), truthLog: join(logs, 'shop.access.log') });
  // Requests for missing files: each is an access line (404) and an error.log line, the mix *.log picks up.
  for (let i = 0; i < 12; i++) assert.equal((await fetch(nginx.url(`/missing-${i}`))).status, 404);
  await nginx.request(8);
  return { dir, logs, nginx };
}

/** Two brokers in one variable, as /etc/default/logship sets it (the test's broker twice). */
const kafkaBrokersEnv = () => ({ ...process.env, KAFKA_BROKERS: `${testBrokers()[0]},${testBrokers()[0]}` });

test('README flags example: *.log with --exclude error.log ships every access line, none of error.log', async (t) => {
  const { dir, logs, nginx } = await debianNginx(t);
  const topic = await createTopic('readme-flags');
  const logged = await nginx.loggedRequests();
  const env = kafkaBrokersEnv();
  // npx logship run --path '/var/log/nginx/*.log' --exclude /var/log/nginx/error.log --format combined --brokers "$KAFKA_BROKERS" --topic nginx
  const agent = new AgentProcess(
    ['run', '--path', join(logs, '*.log'), '--exclude', join(logs, 'error.log'), '--format', 'combined', '--brokers', env.KAFKA_BROKERS, '--topic', topic, '--state-dir', join(dir, 'state'), '--metrics-listen', '127.0.0.1:0'],
    env,
  );
  t.after(() => agent.stop('SIGKILL'));
  // access.log and shop.access.log hold the same requests.
  const records = await waitFor(`${2 * logged} records`, async () => {
    const messages = await readTopic(topic);
    return messages.length === 2 * logged ? messages : undefined;
  });
  const statuses = records.map((m) => (JSON.parse(m.value) as { status: number }).status);
  assert.deepEqual([statuses.filter((s) => s === 404).length, statuses.filter((s) => s === 200).length], [24, 2 * (logged - 12)]);
  assert.ok(!records.some((m) => m.headers['logship-path'] === join(logs, 'error.log')));
  const dead = await readTopic('logship-dead-letter').catch(() => []);
  assert.ok(!dead.some((m) => m.headers['logship-path']?.startsWith(logs)), 'nothing of these logs in the dead-letter topic');
  assert.ok(!agent.logs.some((l) => l.msg.includes('none of the first')));
  assert.equal((await agent.stop()).code, 0);
});

test('README flags example without --exclude: error.log goes to the dead-letter topic and the agent says so, naming it', async (t) => {
  const { dir, logs } = await debianNginx(t);
  const topic = await createTopic('readme-no-exclude');
  const env = kafkaBrokersEnv();
  const agent = new AgentProcess(['run', '--path', join(logs, '*.log'), '--format', 'combined', '--brokers', env.KAFKA_BROKERS, '--topic', topic, '--state-dir', join(dir, 'state'), '--metrics-listen', '127.0.0.1:0'], env);
  t.after(() => agent.stop('SIGKILL'));
  const warning = await agent.waitForLog('none of the first 10 lines');
  console.log(warning.msg);
  assert.equal(warning.path, join(logs, 'error.log'));
  assert.equal(warning.level, 40);
  assert.equal(agent.logs.filter((l) => l.msg.includes('none of the first')).length, 1, 'only error.log, once');
  assert.equal((await agent.stop()).code, 0);
});

test("README gateway example: nginx_conf Debian's nginx.conf, format_name combined, brokers from a comma-separated KAFKA_BROKERS", async (t) => {
  const { dir, logs, nginx } = await debianNginx(t);
  const topic = await createTopic('readme-gateway');
  const logged = await nginx.loggedRequests();
  // The README's YAML, with /var/log/nginx and /var/lib/logship moved into the test's directory.
  const config = join(dir, 'logship.yaml');
  writeFileSync(
    config,
    `inputs:
  - name: gateway
    paths: [${logs}/access.log, ${logs}/*.access.log]
    nginx_conf: ${DEBIAN_NGINX_CONF}   # the format exactly as nginx writes it
    format_name: combined               # Debian's access_log; your own log_format's name if you defined one
kafka:
  brokers: ["\${KAFKA_BROKERS}"]       # KAFKA_BROKERS=kafka-1:9092,kafka-2:9092
  topic: ${topic}
state_dir: ${dir}/state
metrics:
  listen: 127.0.0.1:0
`,
  );
  const agent = new AgentProcess(['run', '--config', config], kafkaBrokersEnv());
  t.after(() => agent.stop('SIGKILL'));
  const records = await waitFor(`${2 * logged} records`, async () => {
    const messages = await readTopic(topic);
    return messages.length === 2 * logged ? messages : undefined;
  });
  const missing = records.map((m) => JSON.parse(m.value) as { request_path: string; status: number; source: { input: string } }).filter((r) => r.request_path.startsWith('/missing-'));
  assert.equal(missing.length, 24);
  assert.ok(missing.every((r) => r.status === 404 && r.source.input === 'gateway'));
  assert.deepEqual(new Set(records.map((m) => m.headers['logship-path'])), new Set([join(logs, 'access.log'), join(logs, 'shop.access.log')]));
  const started = await agent.waitForLog('connected to Kafka');
  assert.deepEqual(started.brokers, [testBrokers()[0], testBrokers()[0]]);
  assert.equal((await agent.stop()).code, 0);
});
