import assert from 'node:assert/strict';
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts';
import { pruneGoneFiles } from '../../src/tail/checkpoint-gc.ts';
import { tempDir } from '../support/agent.ts';

test('checkpoints of files that are gone are forgotten; followed and still-present files keep theirs', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(join(dir, 'state'), pino({ level: 'silent' }));
  const make = (name: string) => {
    const path = join(dir, name);
    writeFileSync(path, `${name}\n`);
    const { dev, ino } = statSync(path);
    const key = `${dev}:${ino}:00000000`;
    store.set(key, path, 5);
    return { path, key };
  };
  const followed = make('followed.log');
  const present = make('present.log');
  const deleted = make('deleted.log');
  const replaced = make('replaced.log');
  unlinkSync(deleted.path);
  renameSync(replaced.path, join(dir, 'elsewhere.log'));
  writeFileSync(replaced.path, 'a new file at the old path\n');

  const pruned = await pruneGoneFiles(store, (key) => key === followed.key);
  assert.equal(pruned, 2);
  assert.deepEqual([...store.keys()].sort(), [followed.key, present.key].sort());
});
