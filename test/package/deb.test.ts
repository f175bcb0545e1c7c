/**
 * The .deb as an operator meets it, on this machine: built by `npm run
 * package`'s code (xz level 1, for speed), installed with dpkg, the
 * executable run where no Node is on PATH, `logship check` and the agent
 * itself run as the logship user against the test broker, the installed unit
 * verified and rated by systemd-analyze, then removed (only the
 * configuration and the state dir stay) and purged (nothing stays).
 * Needs root and dpkg: skipped without them, and where a logship package is
 * already installed (it would be replaced, then purged).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { buildPackage } from '../../scripts/package/main.ts';
import { INSTALLED } from '../../scripts/package/deb.ts';
import { found } from '../../scripts/package/sea.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { onJsonLines } from '../support/json-lines.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { repoPath } from '../support/repo-path.ts';
import { runProcess } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';

/** Runs a command to its end; its exit code and output. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env) => runProcess(command, args, { env });
/** dpkg's status of the logship package: not-installed, installed, config-files... */
const installed = (): string => spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status}', 'logship'], { encoding: 'utf8' }).stdout || 'not-installed';
/** Whether `path` is there, a dangling link included. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
const userExists = (name: string): boolean => spawnSync('getent', ['passwd', name]).status === 0;
const groupExists = (name: string): boolean => spawnSync('getent', ['group', name]).status === 0;

function skipReason(): string | false {
  if (process.platform !== 'linux' || userInfo().uid !== 0) return 'needs root on Linux: it installs the package with dpkg';
  const missing = ['dpkg', 'dpkg-deb', 'dpkg-shlibdeps', 'strip', 'systemd-analyze', 'setpriv'].filter((c) => !found(c));
  if (missing.length > 0) return `missing ${missing.join(', ')} (scripts/setup installs them)`;
  if (installed() !== 'not-installed') return `a logship package is installed here (${installed()}): not replacing it`;
  return false;
}

/** A directory for PATH with nothing in it: no node to fall back on. */
function emptyPath(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'logship-nopath-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** setpriv arguments that run `args` as the logship user, with its groups (adm), as systemd would. */
const asLogship = (args: string[]): string[] => ['--reuid=logship', '--regid=logship', '--init-groups', ...args];
const SETPRIV = '/usr/bin/setpriv';

const ENABLED_LINK = '/etc/systemd/system/multi-user.target.wants/logship.service';

test('the .deb: installs, runs as the logship user, removes to its configuration, purges to nothing', { skip: skipReason(), timeout: 240_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'logship-deb-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  t.after(() => {
    if (installed() !== 'not-installed') spawnSync('dpkg', ['--purge', 'logship'], { stdio: 'inherit' });
  });
  const started = Date.now();
  const { sea, deb } = await buildPackage({ arch: process.arch as 'x64', outDir: work, xzLevel: 1 });
  t.diagnostic(`built ${deb} (${(statSync(deb).size / 2 ** 20).toFixed(1)} MiB; executable ${(statSync(sea).size / 2 ** 20).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
  const noNode = { PATH: emptyPath(t) };

  await t.test('the executable runs with no node on PATH, without warnings', async () => {
    assert.notEqual(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: noNode }).status, 0, 'node is not on this PATH');
    const out = await run(sea, ['version'], noNode);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `logship ${version} (node ${process.versions.node})\n`);
    assert.equal(out.stderr, '', 'no experimental-SEA or code-cache warning');
  });

  await t.test('dpkg -i: files, conffiles, the logship user in adm, its state dir; the unit installed but not enabled', async () => {
    const out = await run('dpkg', ['-i', deb]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(installed(), 'installed');
    assert.equal(statSync(INSTALLED.binary).mode & 0o777, 0o755);
    for (const file of [INSTALLED.unit, INSTALLED.config, INSTALLED.defaults, INSTALLED.completion, `${INSTALLED.doc}/copyright`]) {
      assert.equal(statSync(file).mode & 0o777, 0o644, file);
    }
    const conffiles = spawnSync('dpkg-query', ['-W', '-f', '${Conffiles}', 'logship'], { encoding: 'utf8' }).stdout;
    assert.match(conffiles, new RegExp(`^ ${INSTALLED.config} [0-9a-f]{32}$`, 'm'));
    assert.match(conffiles, new RegExp(`^ ${INSTALLED.defaults} [0-9a-f]{32}$`, 'm'));
    const id = (await run('id', ['logship'])).stdout;
    assert.match(id, /\(adm\)/, id);
    assert.ok(Number(/uid=(\d+)/.exec(id)?.[1]) < 1000, `a system user: ${id}`);
    const state = statSync(INSTALLED.stateDir);
    assert.equal(state.mode & 0o7777, 0o750);
    assert.equal(state.uid, Number(/uid=(\d+)/.exec(id)?.[1]));
    assert.equal(present(ENABLED_LINK), false, 'not enabled on install: the operator sets the brokers first');
    const verify = await run('dpkg', ['--verify', 'logship']);
    assert.equal(verify.stdout + verify.stderr, '', 'dpkg --verify: files match the md5sums');
  });

  await t.test('logship version and bash completion, as installed, with no node on PATH', async () => {
    const out = await run(INSTALLED.binary, ['version'], noNode);
    assert.equal(out.stdout, `logship ${version} (node ${process.versions.node})\n`);
    const completion = await run('bash', ['-c', `source ${INSTALLED.completion}; COMP_WORDS=(logship checkp); COMP_CWORD=1; _logship_yargs_completions; echo "\${COMPREPLY[@]}"`], { PATH: `/usr/bin:/bin` });
    assert.equal(completion.stdout.trim(), 'checkpoints', completion.stderr);
  });

  await t.test('logship check on the installed configuration, as the logship user, brokers from KAFKA_BROKERS', async (st) => {
    const out = await run(SETPRIV, asLogship([INSTALLED.binary, 'check', '--config', INSTALLED.config]), { ...noNode, KAFKA_BROKERS: testBrokers()[0] });
    st.diagnostic(out.stdout);
    assert.match(out.stdout, new RegExp(`^✔ configuration: ${INSTALLED.config}: valid`, 'm'));
    assert.match(out.stdout, new RegExp(`^✔ state_dir ${INSTALLED.stateDir}: writable`, 'm'));
    assert.match(out.stdout, new RegExp(`^✔ kafka ${testBrokers()[0]}: reachable`, 'm'));
    // The shipped topics need not exist on the test broker: any other problem fails.
    assert.deepEqual(out.stdout.split('\n').filter((l) => l.startsWith('✘') && !/^✘ topic [\w-]+: does not exist/.test(l)), []);
  });

  await t.test('the installed agent, as the logship user, ships a log file readable by adm into Kafka', async (st) => {
    const topic = await createTopic('deb');
    const logs = mkdtempSync(join(tmpdir(), 'logship-deb-logs-'));
    st.after(() => rmSync(logs, { recursive: true, force: true }));
    chmodSync(logs, 0o755);
    const log = join(logs, 'access.log');
    writeFileSync(log, combinedLines(0, 5), { mode: 0o640 });
    chownSync(log, 0, Number((await run('getent', ['group', 'adm'])).stdout.split(':')[2]));
    // The installed configuration, pointed at this file and topic: ${KAFKA_BROKERS} stays for the agent to read.
    const settings = parse(readFileSync(INSTALLED.config, 'utf8')) as { inputs: { paths: string[] }[]; kafka: Record<string, unknown>; metrics: Record<string, unknown> };
    settings.inputs[0]!.paths = [log];
    settings.kafka.topic = topic;
    settings.metrics.listen = '127.0.0.1:0';
    const configFile = join(logs, 'logship.yaml');
    writeFileSync(configFile, stringify(settings), { mode: 0o644 });

    const agent = spawn(SETPRIV, asLogship([INSTALLED.binary, 'run', '--config', configFile]), { env: { ...noNode, KAFKA_BROKERS: testBrokers()[0] }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: { msg?: string }[] = [];
    let stderr = '';
    onJsonLines(agent.stdout, (line) => lines.push(typeof line === 'string' ? { msg: line } : line));
    agent.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    st.after(() => agent.kill());
    await waitFor(`5 records in ${topic} (agent stderr: ${stderr})`, async () => (await topicSize(topic)) === 5, 30_000, 200);
    agent.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const records = (await readTopic(topic)).map((m) => JSON.parse(m.value) as { source: { path: string } });
    assert.equal(records.length, 5);
    assert.ok(records.every((r) => r.source.path === log));
    assert.ok(lines.some((l) => l.msg === 'connected to Kafka'));
    const owners = readdirSync(INSTALLED.stateDir).map((name) => statSync(join(INSTALLED.stateDir, name)).uid);
    assert.ok(owners.length > 0 && owners.every((uid) => uid === statSync(INSTALLED.stateDir).uid), 'checkpoints written by the logship user');
  });

  await t.test('the installed unit: systemd-analyze verify passes, security rates it 1.5 or lower', async () => {
    const verify = await run('systemd-analyze', ['verify', INSTALLED.unit]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr, '');
    const security = await run('systemd-analyze', ['security', '--offline=true', INSTALLED.unit]);
    const score = Number(/Overall exposure level for logship\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
    assert.ok(score <= 1.5, `exposure ${score}`);
  });

  await t.test('dpkg -r: only the configuration, the state dir and the user stay', async () => {
    // The operator enabled it meanwhile: a purge must take the link away too.
    const enable = await run('systemctl', ['enable', 'logship.service']);
    assert.equal(enable.code, 0, enable.stderr);
    assert.ok(present(ENABLED_LINK), ENABLED_LINK);
    const out = await run('dpkg', ['-r', 'logship']);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(installed(), 'config-files');
    for (const gone of [INSTALLED.binary, INSTALLED.unit, INSTALLED.completion, INSTALLED.doc]) assert.equal(existsSync(gone), false, gone);
    for (const kept of [INSTALLED.config, INSTALLED.defaults, INSTALLED.stateDir]) assert.ok(existsSync(kept), kept);
    assert.ok(readdirSync(INSTALLED.stateDir).length > 0, 'checkpoints kept: a reinstall does not ship the logs again');
    assert.ok(userExists('logship'));
  });

  await t.test('dpkg --purge: nothing stays', async () => {
    const out = await run('dpkg', ['--purge', 'logship']);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(installed(), 'not-installed');
    for (const gone of ['/etc/logship', INSTALLED.defaults, INSTALLED.stateDir, ENABLED_LINK, '/var/lib/systemd/deb-systemd-helper-enabled/logship.service.dsh-also']) {
      assert.equal(present(gone), false, gone);
    }
    assert.equal(userExists('logship'), false, 'the user is gone');
    assert.equal(groupExists('logship'), false, 'the group is gone');
  });
});
