/**
 * `logship parse` from the outside: the real CLI in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { compileLogFormat, resolveFormat } from '../../src/parse/index.ts';
import { generateLines } from '../../bench/generate-lines.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const fixtures = new URL('../fixtures/nginx/', import.meta.url);
const conf = new URL('log_formats.conf', fixtures).pathname;

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs `logship parse ...args` with `input` on stdin; `stallMs` keeps stdout unread that long first. */
async function logshipParse(args: string[], input: string | Buffer, stallMs = 0): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, 'parse', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.on('error', () => {}); // the CLI may exit (bad format) before reading stdin
  child.stdin.end(input);
  if (stallMs > 0) {
    child.stdout.pause();
    await sleep(stallMs);
  }
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stdout.resume();
  const code = await exited;
  return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

function outputLines(run: Run): unknown[] {
  assert.ok(run.stdout.endsWith('\n') || run.stdout === '', 'output ends with a newline');
  return run.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as unknown);
}

test('cli: every fixture line, in order, as the parser sees it; exit 0', async () => {
  const input = readFileSync(new URL('upstreaminfo.log', fixtures));
  const run = await logshipParse(['--nginx-conf', conf, '--name', 'upstreaminfo'], input);
  assert.equal(run.code, 0, run.stderr);
  const parser = compileLogFormat(resolveFormat({ nginxConf: conf, name: 'upstreaminfo' }));
  const lines = new TextDecoder().decode(input).split('\n').slice(0, -1);
  assert.deepEqual(outputLines(run), lines.map((l) => parser.parse(l)));
});

test('cli: a line that fails prints {_error, _raw} in its place', async () => {
  const good = '203.0.113.9 - - [21/Nov/2026:23:55:28 +0000] "GET / HTTP/1.1" 200 1 "-" "-"';
  const run = await logshipParse(['--format', 'combined'], `${good}\nnot a log line\n\n${good}\n${good} trailing`);
  assert.equal(run.code, 0);
  const out = outputLines(run) as Record<string, unknown>[];
  assert.equal(out.length, 5);
  assert.equal(out[0]!.status, 200);
  assert.equal(out[1]!._raw, 'not a log line');
  assert.match(String(out[1]!._error), /after \$remote_addr/);
  assert.deepEqual(Object.keys(out[2]!), ['_error', '_raw']);
  assert.equal(out[2]!._raw, '');
  assert.equal(out[3]!.status, 200);
  assert.equal(out[4]!._raw, `${good} trailing`, 'a last line without newline is still a line');
});

test('cli: a format string in nginx syntax, invalid UTF-8 in a JSON line', async () => {
  const input = Buffer.concat([Buffer.from('{"ua":"caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\\"x\\"","s":200}\n')]);
  const run = await logshipParse(['--format', `escape=json '{"ua":"$http_user_agent",' '"s":$status}'`], input);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(outputLines(run), [{ http_user_agent: 'caf\uFFFD\uFFFD"x"', status: 200 }]);
});

test('cli: a slow reader loses nothing (backpressure), order kept', async () => {
  const lines = [...generateLines({ format: 'combined', count: 30_000, seed: 7 })];
  const run = await logshipParse(['--format', 'combined'], lines.join('\n') + '\n', 500);
  assert.equal(run.code, 0, run.stderr);
  const out = outputLines(run) as Record<string, unknown>[];
  assert.equal(out.length, lines.length);
  const parser = compileLogFormat(resolveFormat({ format: 'combined' }));
  for (const i of [0, 1, 4_999, 17_321, lines.length - 1]) assert.deepEqual(out[i], parser.parse(lines[i]!), `line ${i + 1}`);
  assert.ok(out.every((r) => !('_error' in r)));
});

test('cli: an unusable format exits 2 and says what is wrong', async () => {
  const unknown = await logshipParse(['--format', 'combind'], '');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown format preset "combind"; presets: combined, common, main, upstreaminfo/);
  assert.equal(unknown.stdout, '');

  const missing = await logshipParse(['--nginx-conf', conf, '--name', 'nope'], '');
  assert.equal(missing.code, 2);
  assert.ok(missing.stderr.includes(conf), missing.stderr);
  assert.match(missing.stderr, /log_format "nope" is not defined here; defined: main, upstreaminfo, gateway_kv, json_truth/);

  const unreadable = await logshipParse(['--nginx-conf', '/nonexistent/nginx.conf', '--name', 'main'], '');
  assert.equal(unreadable.code, 2);
  assert.match(unreadable.stderr, /cannot read nginx config \/nonexistent\/nginx\.conf: ENOENT/);

  const nothing = await logshipParse([], '');
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /give --format/);

  const split = await logshipParse(['--format', '"$http_a$http_b"'], '');
  assert.equal(split.code, 2);
  assert.match(split.stderr, /\$http_a is followed directly by \$http_b/);
});
