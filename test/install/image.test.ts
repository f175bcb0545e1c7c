/**
 * The container image, built from the Dockerfile without an engine:
 * test/install/image-build.ts follows the Dockerfile's own instructions (both
 * stages: npm ci, build, npm prune --omit=dev; COPY through .dockerignore)
 * into a root filesystem. The agent then runs from it as a container would:
 * chrooted, as the image's USER, with its ENV, ENTRYPOINT and CMD; its
 * HEALTHCHECK runs in the agent's namespaces, as the engine runs it.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { onJsonLines } from '../support/json-lines.ts';
import { repoPath } from '../support/repo-path.ts';
import { waitFor } from '../support/wait.ts';
import { contextFilter } from './dockerignore.ts';
import { buildImage, type BuiltImage } from './image-build.ts';
import { finished, type RunOptions } from './image-root.ts';
import { assertPatchedKafkajs, assertRuntimeOnly, assertShipsRealLog, type Installed } from './installed-agent.ts';
import { freePort } from '../support/free-port.ts';

const dir = mkdtempSync(join(tmpdir(), 'logship-image-'));
let image: BuiltImage;

/** The host's settings for reaching the npm registry, where it has them (a build's --build-arg). */
function registryAccess(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'npm_config_registry'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'building the image root takes root (unshare --mount, chroot), as CI has');
  const started = Date.now();
  image = await buildImage(repoPath('Dockerfile'), repoPath(''), dir, {
    say: (line) => process.stdout.write(`# image build: ${line}\n`),
    // The host's npm cache stands in for the registry where it holds a package (the lock file names no tarball URLs);
    // for the others, the host's way to the registry (its CA bundle, proxy, registry), as a CI passes build args.
    buildEnv: { ...registryAccess(), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
  });
  process.stdout.write(`# image built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `docker run -v HOST:/var/log/test`: a folder of the root the test writes and the agent reads. */
function logVolume(): { host: string; agent: string } {
  const agent = '/var/log/test';
  const host = join(image.root.dir, agent);
  mkdirSync(host, { recursive: true });
  chmodSync(host, 0o755);
  return { host, agent };
}

/** Where CMD's --config points: the configuration a user mounts. */
function cmdConfig(): { host: string; agent: string } {
  const agent = image.config.cmd[image.config.cmd.indexOf('--config') + 1];
  assert.ok(agent, `CMD ${JSON.stringify(image.config.cmd)} names a --config`);
  mkdirSync(join(image.root.dir, agent, '..'), { recursive: true });
  return { host: join(image.root.dir, agent), agent };
}

const runOptions = (privateNetwork = false): RunOptions => ({ user: image.config.user, workdir: image.config.workdir, env: image.config.env, privateNetwork });

/** The HEALTHCHECK's command, in the running agent's namespaces. */
async function healthcheck(pid: number | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assert.ok(image.config.healthcheck, 'the image has a HEALTHCHECK');
  assert.ok(pid, 'the agent has a pid');
  return finished(image.root.exec(pid, image.config.healthcheck, runOptions()));
}

test('.dockerignore keeps the build context to what the Dockerfile copies', () => {
  const { included } = contextFilter(repoPath(''));
  for (const path of ['package.json', 'package-lock.json', 'patches/kafkajs+2.2.4.patch', 'scripts/apply-patches', 'src/cli/main.ts', 'bin/logship.js']) assert.ok(included(path), `${path} is sent`);
  for (const path of ['node_modules/kafkajs/index.js', 'dist/cli/main.js', '.git/HEAD', 'test/install/npm.test.ts', 'scripts/setup', 'logship-0.1.0.tgz']) assert.ok(!included(path), `${path} stays out`);
});

test('the image holds the built CLI, the patched kafkajs and no dev dependency; its volume belongs to its unprivileged user', () => {
  const app = join(image.root.dir, image.config.workdir);
  assert.ok(statSync(join(app, 'dist/cli/main.js')).isFile(), 'dist/ is built');
  assert.throws(() => statSync(join(app, 'src')), 'no TypeScript sources');
  assertRuntimeOnly(join(app, 'node_modules'));
  assertPatchedKafkajs(join(app, 'node_modules/kafkajs'));
  const { uid } = image.root.user(image.config.user);
  assert.notEqual(uid, 0, `USER ${image.config.user} is not root`);
  for (const volume of image.config.volumes) assert.equal(statSync(join(image.root.dir, volume)).uid, uid, `VOLUME ${volume} belongs to ${image.config.user}`);
});

test("ENTRYPOINT and CMD run the agent as the image's user: it ships a real nginx log to Kafka, and the HEALTHCHECK passes", async () => {
  const port = await freePort();
  const installed: Installed = { spawn: (args) => image.root.spawn([...image.config.entrypoint, ...args], runOptions()), dir: logVolume() };
  const configAt = cmdConfig();
  await assertShipsRealLog(installed, {
    configAt,
    defaultStateDir: true,
    // A configuration's own metrics.listen wins over the image's LOGSHIP_METRICS_LISTEN; the HEALTHCHECK follows it.
    listen: `127.0.0.1:${port}`,
    whileRunning: async (agent) => {
      const health = await healthcheck(agent.pid);
      assert.equal(health.code, 0, `HEALTHCHECK: ${health.stdout}${health.stderr}`);
      assert.equal(health.stdout, `http://127.0.0.1:${port}/healthz: 200 ok\n`);
    },
  });
  assert.deepEqual(image.config.cmd, ['run', '--config', configAt.agent], 'the agent ran with CMD as the image has it');
});

test("with no metrics.listen configured, the agent listens on the EXPOSEd port of all the container's addresses, where the HEALTHCHECK finds it", async () => {
  assert.equal(image.config.env.LOGSHIP_METRICS_LISTEN, `0.0.0.0:${image.config.exposed[0]}`);
  const volume = logVolume();
  writeFileSync(join(volume.host, 'idle.log'), '');
  // Nothing answers at the broker inside the container's own network: the agent keeps running and keeps trying.
  writeFileSync(cmdConfig().host, stringify({ inputs: [{ paths: [`${volume.agent}/idle.log`], format: 'combined' }], kafka: { brokers: ['127.0.0.1:9'], topic: 't' }, shutdown_timeout_ms: 1000 }));
  const agent = image.root.spawn([...image.config.entrypoint, ...image.config.cmd], runOptions(true));
  const exited = finished(agent);
  const logs: Record<string, unknown>[] = [];
  onJsonLines(agent.stdout!, (line) => typeof line === 'object' && logs.push(line));
  try {
    const listening = await waitFor('the metrics server listening, or the agent gone', () => logs.find((l) => l.msg === 'metrics and health endpoints listening') ?? (agent.exitCode !== null ? { msg: 'exited' } : undefined));
    assert.equal(listening.msg, 'metrics and health endpoints listening', `the agent runs: ${JSON.stringify(logs.slice(-3))}`);
    assert.deepEqual(listening.address, { address: '0.0.0.0', family: 'IPv4', port: Number(image.config.exposed[0]) });
    const health = await healthcheck(agent.pid);
    assert.equal(health.code, 0, `HEALTHCHECK: ${health.stdout}${health.stderr}`);
    assert.equal(health.stdout, `http://127.0.0.1:${image.config.exposed[0]}/healthz: 200 ok\n`);
  } finally {
    agent.kill('SIGTERM');
    await exited;
  }
});
