/**
 * The ways npm installs the agent, each from this working tree's files as a
 * fresh clone holds them, each run as installed: `npm ci --omit=dev` in a
 * checkout (the sources, run by type stripping), and the packed tarball
 * (`npm pack`) installed globally and as another project's dependency (the
 * built dist/). None may bring dev tooling, and each must load the patched
 * kafkajs. npm works from its cache where it can (--prefer-offline): the
 * set-up's npm ci filled it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { repoPath } from '../support/repo-path.ts';
import { assertPatchedKafkajs, assertRuntimeOnly, assertShipsRealLog, type Installed } from './installed-agent.ts';
import { copySourceTree } from './source-tree.ts';

const run = promisify(execFile);

/**
 * This test run's Node first on PATH, as the bin's `#!/usr/bin/env node`
 * shebang needs Node 24; and no node_modules/.bin, which `npm test` puts on
 * PATH (the repository's patch-package would stand in for the one an
 * --omit=dev install does not have).
 */
const inherited = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.split(sep).includes('node_modules'));
const env = { ...process.env, PATH: [dirname(process.execPath), ...inherited].join(delimiter) };

async function npm(args: string[], cwd: string): Promise<string> {
  const started = Date.now();
  const { stdout, stderr } = await run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], { cwd, env, maxBuffer: 1 << 26 });
  process.stdout.write(`# npm ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return stdout + stderr;
}

/** The agent behind a bin, with a folder for its files. */
function installedAt(bin: string, dir: string): Installed {
  const files = join(dir, 'agent-files');
  mkdirSync(files, { recursive: true });
  return { spawn: (args) => spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), dir: { host: files, agent: files } };
}

/** The kafkajs that `from` (a file of the installed agent) loads. */
function kafkajsLoadedFrom(from: string): string {
  return dirname(createRequire(from).resolve('kafkajs'));
}

test('npm ci --omit=dev in a checkout: no dev dependency, kafkajs patched, and the agent runs from its sources', async (t) => {
  const dir = tempDir(t, 'logship-checkout-');
  copySourceTree(dir);
  const output = await npm(['ci', '--omit=dev'], dir);
  assert.match(output, /applied patches\/kafkajs\+/, 'prepare applied the patch without patch-package');
  assertRuntimeOnly(join(dir, 'node_modules'));
  assert.equal(existsSync(join(dir, 'dist')), false, 'nothing was compiled: bin/logship.js runs src/');
  assert.equal(kafkajsLoadedFrom(join(dir, 'src/cli/main.ts')), join(dir, 'node_modules/kafkajs'));
  assertPatchedKafkajs(join(dir, 'node_modules/kafkajs'));
  assert.match(await npm(['install', '--omit=dev'], dir), /kafkajs\+2\.2\.4\.patch is applied already/, 'a second install leaves the patch alone');
  await assertShipsRealLog(installedAt(join(dir, 'bin/logship.js'), dir));
});

const packed = mkdtempSync(join(tmpdir(), 'logship-pack-'));
let tarball: string;

before(async () => {
  // A developer's checkout: the set-up's npm ci (dev dependencies, patched kafkajs) stands in as its node_modules.
  const checkout = join(packed, 'checkout');
  copySourceTree(checkout);
  symlinkSync(repoPath('node_modules'), join(checkout, 'node_modules'));
  await npm(['pack', '--pack-destination', packed], checkout);
  const [name] = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
  assert.ok(name, 'npm pack made a tarball');
  tarball = join(packed, name);
});
after(() => rmSync(packed, { recursive: true, force: true }));

test('the packed tarball carries dist/ and the patched kafkajs, not the sources, the tests or the patches', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  const files = stdout.split('\n');
  for (const file of ['package/bin/logship.js', 'package/dist/cli/main.js', 'package/node_modules/kafkajs/package.json', 'package/config.example.yaml', 'package/schema/config.schema.json']) assert.ok(files.includes(file), file);
  for (const prefix of ['package/src/', 'package/test/', 'package/patches/', 'package/scripts/']) assert.deepEqual(files.filter((f) => f.startsWith(prefix)), [], `nothing under ${prefix}`);
  assert.deepEqual(files.filter((f) => f.startsWith('package/node_modules/') && !f.startsWith('package/node_modules/kafkajs/')), [], 'kafkajs is the only bundled dependency');
});

test('npm install -g from the tarball: no dev dependency, the bundled patched kafkajs, and the agent runs', async (t) => {
  const prefix = tempDir(t, 'logship-global-');
  const output = await npm(['install', '--global', '--prefix', prefix, tarball], prefix);
  assert.doesNotMatch(output, /install-scripts/, 'the tarball has no install script for npm to hold back');
  const pkg = join(prefix, 'lib/node_modules/logship');
  assertRuntimeOnly(join(pkg, 'node_modules'));
  assert.equal(kafkajsLoadedFrom(join(pkg, 'dist/cli/main.js')), join(pkg, 'node_modules/kafkajs'));
  assertPatchedKafkajs(join(pkg, 'node_modules/kafkajs'));
  await assertShipsRealLog(installedAt(join(prefix, 'bin/logship'), prefix));
});

test("npm install of the tarball in a project with its own kafkajs: the agent loads its bundled patched copy, not the project's", async (t) => {
  const project = tempDir(t, 'logship-project-');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'gateway-tools', version: '1.0.0', private: true, dependencies: { kafkajs: '2.2.4' } }));
  assert.doesNotMatch(await npm(['install', tarball], project), /install-scripts/, 'the tarball has no install script for npm to hold back');
  const pkg = join(project, 'node_modules/logship');
  assertRuntimeOnly(join(project, 'node_modules'));
  assert.equal(existsSync(join(project, 'node_modules/kafkajs/src/protocol/recordBatch/v0/records.js')), false, "the project's kafkajs is the registry's");
  assert.equal(kafkajsLoadedFrom(join(pkg, 'dist/cli/main.js')), join(pkg, 'node_modules/kafkajs'));
  assertPatchedKafkajs(join(pkg, 'node_modules/kafkajs'));
  await assertShipsRealLog(installedAt(join(project, 'node_modules/.bin/logship'), project));
});
