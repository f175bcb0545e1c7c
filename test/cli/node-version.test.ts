/**
 * `npx logship` on a machine whose node is older than 24: bin/logship.js
 * says which node it found and how to get 24, instead of a SyntaxError from
 * deep inside (node:zlib's zstd exports). Run with a real older Node: the
 * machine's own (Debian's nodejs, which scripts/setup installs).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { BIN, logship } from './logship-cli.ts';

function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(version.replace(/^v/, '').split('.')[0]) < 24) return { path, version };
  }
  return undefined;
}

const old = olderNode();

test('with a Node older than 24 first on PATH, logship says which it found, that 24 is needed and how to get it', { skip: old ? false : 'no Node older than 24 on this machine (scripts/setup installs Debian nodejs)' }, async () => {
  const { path, version } = old!;
  // As `npx logship` or the bin link runs it: by its shebang, with the older node first on PATH.
  const env = { ...process.env, PATH: `${dirname(path)}:${process.env.PATH ?? ''}` };
  for (const args of [['version'], ['run', '--config', '/nonexistent.yaml']]) {
    const result = await logship(args, { file: BIN, env });
    process.stdout.write(`# ${path} (${version}) logship ${args.join(' ')} -> exit ${result.code}: ${result.stderr}`);
    assert.equal(result.code, 2, 'a retry will not help: exit 2');
    assert.equal(result.stdout, '');
    assert.doesNotMatch(result.stderr, /SyntaxError|zstd/);
    assert.match(result.stderr, new RegExp(`Node\\.js ${version.replace(/\./g, '\\.')}`), 'the version found');
    assert.ok(result.stderr.includes(path), 'where that node is');
    assert.match(result.stderr, /needs Node\.js 24 or newer/);
    assert.match(result.stderr, /nodejs\.org/);
    assert.match(result.stderr, /\.deb/);
  }
});
