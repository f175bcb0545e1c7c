/**
 * What every install of the agent must do, whatever put it there (npm ci in a
 * checkout, the packed tarball, the image): run, check its configuration
 * against the test broker, and ship a real nginx log to Kafka; and what it
 * must not carry: dev dependencies, an unpatched kafkajs.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { repoPath } from '../support/repo-path.ts';
import { waitFor } from '../support/wait.ts';
import { finished } from './image-root.ts';

/** An installed agent: how to start `logship ARGS`, and a directory both the test and the agent see. */
export interface Installed {
  spawn(args: string[]): ChildProcess;
  /** The directory as the test writes it, and as the agent names it. */
  dir: { host: string; agent: string };
}

const VERSION = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

/** Names of packages only the dev dependencies bring (package-lock.json), e.g. typescript, eslint, kubernetes-models. */
export function devOnlyPackages(): string[] {
  const lock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const name = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
  const runtime = new Set(entries.filter(([, p]) => !p.dev).map(([path]) => name(path)));
  return [...new Set(entries.filter(([, p]) => p.dev).map(([path]) => name(path)))].filter((n) => !runtime.has(n));
}

/** Every package (a folder with a package.json) under a node_modules, nested ones included: name -> folders. */
export function installedPackages(nodeModules: string, found = new Map<string, string[]>()): Map<string, string[]> {
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules)) {
    const dirs = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`) : entry.startsWith('.') ? [] : [entry];
    for (const name of dirs) {
      const dir = join(nodeModules, name);
      if (!existsSync(join(dir, 'package.json'))) continue;
      found.set(name, [...(found.get(name) ?? []), dir]);
      installedPackages(join(dir, 'node_modules'), found);
    }
  }
  return found;
}

/** No dev-only package anywhere under `nodeModules`, and the runtime ones all there. */
export function assertRuntimeOnly(nodeModules: string): void {
  const installed = installedPackages(nodeModules);
  const dev = devOnlyPackages();
  for (const name of ['typescript', 'eslint', 'kubernetes-models', 'patch-package']) assert.ok(dev.includes(name), `${name} is a dev-only package of the lock file`);
  assert.deepEqual(dev.filter((name) => installed.has(name)), [], `dev-only packages under ${nodeModules}`);
  const runtime = Object.keys((JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  assert.deepEqual(runtime.filter((name) => !installed.has(name)), [], `runtime dependencies missing under ${nodeModules}`);
}

/** Every line patches/kafkajs+*.patch adds is in the installed kafkajs's file. */
export function assertPatchedKafkajs(kafkajs: string): void {
  const [patchFile] = readdirSync(repoPath('patches')).filter((f) => f.startsWith('kafkajs+'));
  assert.ok(patchFile, 'patches/ holds the kafkajs patch');
  const added = new Map<string, string[]>();
  let file = '';
  for (const line of readFileSync(repoPath(`patches/${patchFile}`), 'utf8').split('\n')) {
    const target = /^\+\+\+ b\/node_modules\/kafkajs\/(.*)$/.exec(line);
    if (target) added.set((file = target[1]!), []);
    else if (line.startsWith('+') && line.slice(1).trim() !== '') added.get(file)?.push(line.slice(1));
  }
  assert.ok(added.size > 0, `${patchFile} names kafkajs files`);
  for (const [path, lines] of added) {
    const text = readFileSync(join(kafkajs, path), 'utf8');
    const missing = lines.filter((l) => !text.includes(l));
    assert.deepEqual(missing, [], `${join(kafkajs, path)} carries the lines ${patchFile} adds`);
  }
}

/** A real nginx log (test/fixtures/nginx) and the true values of its lines. */
function realLog(): { text: string; truth: { remote_addr: string; status: string; request: string }[] } {
  const text = readFileSync(repoPath('test/fixtures/nginx/combined.log'), 'utf8');
  const truth = readFileSync(repoPath('test/fixtures/nginx/json_truth.log'), 'utf8').split('\n').filter(Boolean);
  return { text, truth: truth.map((line) => JSON.parse(line) as { remote_addr: string; status: string; request: string }) };
}

export interface ShipOptions {
  /** metrics.listen in the configuration; default: a free loopback port (the default 9598 may be taken on the machine). */
  listen?: string;
  /** Where the configuration goes (default: the shared directory's logship.yaml). */
  configAt?: { host: string; agent: string };
  /** Keep state_dir's default (an image's volume) rather than a folder of the shared directory. */
  defaultStateDir?: boolean;
  /** Run with the agent up, after the log has shipped. */
  whileRunning?: (agent: ChildProcess) => Promise<void>;
}

/**
 * `logship version`; `logship check` against the test broker; `logship run`
 * ships a real nginx log to Kafka, read back with kcat and compared with the
 * truth of each line; SIGTERM stops it cleanly.
 */
export async function assertShipsRealLog(installed: Installed, options: ShipOptions = {}): Promise<void> {
  const version = await finished(installed.spawn(['version']));
  assert.equal(version.code, 0, `logship version: ${version.stderr}`);
  assert.match(version.stdout, new RegExp(`^logship ${VERSION.replaceAll('.', '\\.')} \\(node 24\\.`));

  const topic = await createTopic('install');
  const deadLetter = await createTopic('install-dead');
  const { text, truth } = realLog();
  writeFileSync(join(installed.dir.host, 'access.log'), text);
  const config = {
    inputs: [{ paths: [`${installed.dir.agent}/access.log`], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic, dead_letter_topic: deadLetter },
    batch: { linger_ms: 50 },
    ...(options.defaultStateDir ? {} : { state_dir: `${installed.dir.agent}/state` }),
    metrics: { listen: options.listen ?? '127.0.0.1:0' },
  };
  const configAt = options.configAt ?? { host: join(installed.dir.host, 'logship.yaml'), agent: `${installed.dir.agent}/logship.yaml` };
  writeFileSync(configAt.host, stringify(config));
  const configArgs = ['--config', configAt.agent];

  const check = await finished(installed.spawn(['check', ...configArgs]));
  assert.equal(check.code, 0, `logship check:\n${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /verdict: ready to run/);

  const agent = installed.spawn(['run', ...configArgs]);
  const exited = finished(agent);
  try {
    await waitFor(`${truth.length} records in ${topic}`, async () => agent.exitCode !== null || (await topicSize(topic)) >= truth.length);
    if (agent.exitCode !== null) assert.fail(`the agent exited early: ${JSON.stringify(await exited)}`);
    await options.whileRunning?.(agent);
  } finally {
    agent.kill('SIGTERM');
  }
  const { code, stderr } = await exited;
  assert.equal(code, 0, `the agent stops cleanly on SIGTERM: ${stderr}`);

  const records = (await readTopic(topic)).map((m) => JSON.parse(m.value) as { remote_addr: string; status: number; request: string });
  assert.equal(records.length, truth.length, 'every line of the log, once');
  // An empty request line (`""`) is a null request.
  const expected = truth.map((t) => [t.remote_addr, Number(t.status), t.request === '' ? null : t.request]);
  assert.deepEqual(records.map((r) => [r.remote_addr, r.status, r.request]), expected, 'each line as nginx logged it');
}
