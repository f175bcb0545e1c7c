import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts';
import { tempDir } from '../support/agent.ts';
import { waitFor } from '../support/wait.ts';

const silent = pino({ level: 'silent' });

test('checkpoints survive a reopen and leave no temp file behind', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(dir, silent);
  store.set('1:2', { path: '/var/log/a.log', offset: 1234 });
  store.set('1:3', { path: '/var/log/b.log', offset: 99 });
  store.delete('1:3');
  await store.close();
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoints-retired.json', 'checkpoints.json']);

  const again = new CheckpointStore(dir, silent);
  assert.deepEqual(again.get('1:2'), { path: '/var/log/a.log', offset: 1234 });
  assert.equal(again.get('1:3'), undefined);
});

test('a corrupt checkpoint file is reported and treated as empty, not a crash', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'checkpoints.json'), '{"version":1,"files":{"1:2":');
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
  const store = new CheckpointStore(dir, log);
  assert.equal(store.get('1:2'), undefined);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /checkpoint file is corrupt/);
  const aside = readdirSync(dir).filter((name) => name.startsWith('checkpoints.json.corrupt-'));
  assert.equal(aside.length, 1, 'the bad file is kept aside for inspection');
  assert.match(readFileSync(join(dir, aside[0]!), 'utf8'), /"1:2"/);
});

test('a failed save is retried on its own, without a further change', async (t) => {
  const dir = tempDir(t);
  // A directory where the temporary file goes: the write fails (EISDIR) until it is removed.
  const blocker = join(dir, `checkpoints.json.tmp-${process.pid}`);
  mkdirSync(blocker);
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
  const store = new CheckpointStore(dir, log);
  store.startAutoSave(20);
  store.set('1:2', { path: '/var/log/a.log', offset: 1234 });
  const saved = store.whenSaved();
  await waitFor('the failed save reported', () => errors.some((line) => line.includes('saving checkpoints failed')));
  rmdirSync(blocker);
  await saved;
  assert.deepEqual(new CheckpointStore(dir, silent).get('1:2'), { path: '/var/log/a.log', offset: 1234 });
  await store.close();
});
