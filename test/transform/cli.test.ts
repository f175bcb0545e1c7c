/**
 * Transforms from the outside: `logship parse --config` tries an input's
 * transforms on real lines (output line N is input line N), and a bad
 * transform setting stops `parse`, `check` and `run` with exit 2 and the
 * setting named.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { tempDir } from '../support/agent.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const COMBINED = new URL('../fixtures/nginx/combined.log', import.meta.url).pathname;

function logship(args: string[], input = '', env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { input, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function configFile(dir: string, transforms: unknown, extraInputs: object[] = []): string {
  const file = join(dir, 'logship.yaml');
  const inputs = [{ name: 'web', paths: [join(dir, '*.log')], format: 'combined', transforms }, ...extraInputs];
  writeFileSync(file, stringify({ inputs, kafka: { brokers: ['127.0.0.1:9'], topic: 'logs' }, state_dir: join(dir, 'state'), metrics: { listen: '127.0.0.1:0' } }));
  return file;
}

test('logship parse --config applies the input\'s transforms, one output line per input line', (t) => {
  const dir = tempDir(t);
  const file = configFile(dir, {
    filter: { drop_when: 'request_path == "/static/app.js"' },
    privacy: { ip: {}, redact_query: { params: ['lang', 'q'] } },
    fields: { drop: ['time_local'], add: { dc: '${DC}' } },
  });
  const input = readFileSync(COMBINED, 'utf8') + 'not an access log line ?q=secret from 192.0.2.44\n';
  const { code, stdout, stderr } = logship(['parse', '--config', file], input, { ...process.env, DC: 'fra1' });
  assert.equal(code, 0, stderr);
  const out = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const lines = input.trimEnd().split('\n');
  assert.equal(out.length, lines.length);
  out.forEach((record, i) => {
    if (/"[A-Z]+ \/static\/app\.js[ ?]/.test(lines[i]!)) assert.deepEqual(record, { _dropped: 'filter' }, `line ${i + 1}`);
    else if (record._error === undefined) {
      assert.equal(record.dc, 'fra1');
      assert.equal(record.time_local, undefined);
      assert.match(record.remote_addr as string, /^(127\.0\.0\.0|::)$/);
    }
  });
  assert.ok(!stdout.includes('zh-CN') && !stdout.includes('shoes') && !stdout.includes('secret') && !stdout.includes('192.0.2.44'));
  assert.deepEqual(out.at(-1), { _error: out.at(-1)!._error, _raw: 'not an access log line ?q=REDACTED from 192.0.2.0' });
  console.log(`  ${lines.length} lines: ${out.filter((r) => r._dropped).length} filtered, e.g. ${JSON.stringify(out[1]).slice(0, 140)}…`);

  // Several inputs: --input names one.
  const two = configFile(dir, { sample: { rate: 2 } }, [{ name: 'api', paths: ['/x.log'], format: 'combined' }]);
  assert.match(logship(['parse', '--config', two], '').stderr, /2 inputs: name one with --input \(web, api\)/);
  const api = logship(['parse', '--config', two, '--input', 'api'], readFileSync(COMBINED, 'utf8'));
  assert.equal(api.stdout.trimEnd().split('\n').filter((l) => l.includes('_dropped')).length, 0);
});

test('a bad transform setting: parse, check and run exit 2 naming it', (t) => {
  const dir = tempDir(t);
  const file = configFile(dir, { filter: { drop_when: 'stauts >= 500' } });
  const setting = 'inputs[0].transforms.filter.drop_when: "stauts" is not a field of this format (did you mean "status"?)';
  for (const command of ['parse', 'check', 'run']) {
    const { code, stdout, stderr } = logship([command, '--config', file]);
    assert.equal(code, 2, `${command}: ${stdout}${stderr}`);
    assert.ok((stdout + stderr).includes(setting), `${command}: ${stdout}${stderr}`);
    console.log(`  ${command}: exit ${code}`);
  }
});
