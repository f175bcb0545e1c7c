/**
 * The checkpoint file's format, pinned: every version ever written is read
 * (golden files of each), the newest is written byte for byte as below, and
 * a version from a newer agent is refused rather than guessed at.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatCheckpoints, parseCheckpoints } from '../../src/checkpoint/checkpoint-file.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('format version 1 (path and offset) is read', () => {
  assert.deepEqual(
    [...parseCheckpoints(fixture('checkpoints-v1.json'))],
    [
      ['2049:131:0a1b2c3d', { path: '/var/log/nginx/access.log', offset: 1234 }],
      ['2049:132:ffeeddcc', { path: '/var/log/nginx/access.log.1', offset: 99 }],
    ],
  );
});

test('format version 2 is read and written back byte for byte', () => {
  const text = fixture('checkpoints-v2.json');
  const files = parseCheckpoints(text);
  assert.deepEqual(files.get('2049:140:0a1b2c3d'), { path: '/var/log/nginx/access.log.1', offset: 500, size: 900, input: 'gateway', id: '2049:139:0a1b2c3d' });
  assert.equal(formatCheckpoints(files), text);
});

test('a version 1 file is written as version 2', () => {
  const out = JSON.parse(formatCheckpoints(parseCheckpoints(fixture('checkpoints-v1.json')))) as { version: number; files: object };
  assert.equal(out.version, 2);
  assert.equal(Object.keys(out.files).length, 2);
});

test('a format from a newer agent is refused, naming the versions', () => {
  assert.throws(() => parseCheckpoints('{"version":3,"files":{}}'), /checkpoint format version 3 is newer than this agent's \(2\)/);
});

test('entries that are not checkpoints are skipped, not fatal', () => {
  const files = parseCheckpoints('{"version":2,"files":{"a":{"path":"/x","offset":"12"},"b":null,"c":{"path":"/y","offset":3}}}');
  assert.deepEqual([...files.keys()], ['c']);
});
