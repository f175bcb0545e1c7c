import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseCheckpoints, parseRetired } from '../../src/checkpoint/checkpoint-file.ts';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts';
import { oldestFirst, type HistoryFile } from '../../src/backfill/history-files.ts';
import { tempDir } from '../support/agent.ts';

const silent = pino({ level: 'silent' });

test('a forgotten checkpoint is kept as retired (for backfill) in its own file, survives a reopen, and leaves it when the file is followed again', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(dir, silent);
  store.set('1:2:aa', { path: '/var/log/a.log', offset: 1234, size: 2000, input: 'nginx' });
  store.delete('1:2:aa');
  await store.close();
  assert.equal(parseCheckpoints(readFileSync(join(dir, 'checkpoints.json'), 'utf8')).size, 0, 'not a live checkpoint any more');
  const retired = parseRetired(readFileSync(join(dir, 'checkpoints-retired.json'), 'utf8')).get('1:2:aa');
  assert.equal(retired?.offset, 1234);
  assert.ok(retired.retired_at > Date.now() - 60_000);

  const again = new CheckpointStore(dir, silent);
  assert.equal(again.get('1:2:aa'), undefined);
  again.set('1:2:aa', { path: '/var/log/a.log', offset: 1500 });
  await again.close();
  assert.equal(parseRetired(readFileSync(join(dir, 'checkpoints-retired.json'), 'utf8')).size, 0);
});

test('retired checkpoints are bounded: the newest 1000 are kept', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(dir, silent);
  for (let i = 0; i < 1005; i++) {
    store.set(`1:${i}:aa`, { path: `/var/log/${i}.log`, offset: i });
    store.delete(`1:${i}:aa`);
  }
  await store.close();
  const retired = parseRetired(readFileSync(join(dir, 'checkpoints-retired.json'), 'utf8'));
  assert.equal(retired.size, 1000);
  assert.equal(retired.has('1:4:aa'), false);
  assert.equal(retired.has('1:5:aa'), true);
});

test('history order: by rotation number within a log (logrotate keeps mtimes to the second), by age between logs', () => {
  const file = (path: string, mtimeMs: number): HistoryFile => ({ path, mtimeMs, size: 1, dev: 1, ino: 1, compression: undefined, unsupported: undefined });
  const files = [
    file('/l/access.log.1', 5000.5),
    file('/l/access.log.10.gz', 1000),
    file('/l/access.log.2.gz', 1000),
    file('/l/error.log.1', 500),
    file('/l/access.log-20261101.gz', 100),
  ];
  assert.deepEqual(oldestFirst(files).map((f) => f.path), ['/l/access.log-20261101.gz', '/l/error.log.1', '/l/access.log.10.gz', '/l/access.log.2.gz', '/l/access.log.1']);
});

test('checkpoints.json is not rewritten with the retired list: a save after acks writes only the live checkpoints', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(dir, silent);
  store.set('1:2:aa', { path: '/var/log/a.log', offset: 1 });
  store.delete('1:2:aa');
  await store.close();
  const retiredAt = statSync(join(dir, 'checkpoints-retired.json')).mtimeMs;
  const again = new CheckpointStore(dir, silent);
  again.set('1:3:bb', { path: '/var/log/b.log', offset: 1 });
  await again.save();
  again.set('1:3:bb', { path: '/var/log/b.log', offset: 2 });
  await again.close();
  assert.equal(statSync(join(dir, 'checkpoints-retired.json')).mtimeMs, retiredAt, 'the retired file is written only when a file is retired');
  const saved = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8')) as { version: number; files: Record<string, { path: string; offset: number }> };
  assert.deepEqual(Object.keys(saved.files), ['1:3:bb']);
  assert.deepEqual({ path: saved.files['1:3:bb']!.path, offset: saved.files['1:3:bb']!.offset }, { path: '/var/log/b.log', offset: 2 });
});
