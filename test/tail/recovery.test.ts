/**
 * Restart-safe rotation with real files: what rotation does to a file while
 * the agent is stopped (or not following it), and what the next run reads.
 * A checkpoint is a promise to finish its file wherever rotation moved it in
 * its directory; only a file that is gone loses lines, and then the loss is
 * counted. Each test awaits what it expects; nothing sleeps.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { startTailer } from '../support/tailer-harness.ts';
import { waitFor } from '../support/wait.ts';

const lines = (prefix: string, from: number, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
const write = (path: string, items: string[]) => appendFileSync(path, items.map((l) => l + '\n').join(''));

/** Runs a tailer until it has read `count` lines (the pipeline is full after them), then stops it cleanly. */
async function readSomeThenStop(paths: string[], state: string, count: number, settings = {}) {
  const run = startTailer(paths, state, settings);
  run.sink.capacity = count;
  await run.started;
  await waitFor(`${count} lines read`, () => run.sink.lines.length === count);
  await run.stop();
  return run;
}

test('renamed out of the paths while the agent was stopped: the rest of the old file is read, then the new one', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 10));
  const first = await readSomeThenStop([log], join(dir, 'state'), 4);

  renameSync(log, `${log}.1`); // logrotate (create) while the agent is down...
  write(log, lines('new', 0, 3)); // ...and nginx reopened
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('every line', () => run.sink.lines.length === 9);
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('old')), lines('old', 4, 6));
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('new')), lines('new', 0, 3));
  assert.ok(run.sink.lines.filter((l) => l.text.startsWith('old')).every((l) => l.path === `${log}.1` && l.id === first.sink.lines[0]!.id), 'read from where rotation put it, with its own ids');
  assert.equal(run.stats.counters.files_recovered, 1);
  await waitFor('the old file released once drained', () => !run.tailer.isFollowing(first.sink.lines[0]!.key));
});

test('copytruncate while the agent was stopped: the rest comes from the copy, with the original ids; the new content from 0', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 10));
  const first = await readSomeThenStop([log], join(dir, 'state'), 4);

  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('new', 0, 3));
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('every line', () => run.sink.lines.length === 9);
  const old = run.sink.lines.filter((l) => l.text.startsWith('old'));
  assert.deepEqual(old.map((l) => l.text), lines('old', 4, 6));
  assert.ok(old.every((l) => l.path === `${log}.1`));
  assert.ok(old.every((l) => l.id === first.sink.lines[0]!.id), "a copy's lines keep the ids they had in the original");
  assert.equal(old[0]!.lineOffset, first.sink.lines[3]!.nextOffset, 'continued exactly where the original stopped');
  assert.deepEqual(run.sink.lines.filter((l) => l.text.startsWith('new')).map((l) => l.lineOffset)[0], 0);
});

test('copytruncate while stopped, with start_at: end: the new content is read whole (its inode had a checkpoint)', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 6));
  await readSomeThenStop([log], join(dir, 'state'), 6, { start_at: 'beginning' });
  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('new', 0, 3));
  const run = startTailer([log], join(dir, 'state'), { start_at: 'end' });
  t.after(() => run.stop());
  await run.started;
  await waitFor('the new lines', () => run.sink.lines.length === 3);
  assert.deepEqual(run.sink.texts(), lines('new', 0, 3));
});

test('copytruncate while stopped, with a glob that matches the copy: it continues at the checkpoint, nothing twice', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 10));
  await readSomeThenStop([join(dir, 'access.log*')], join(dir, 'state'), 7);
  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('new', 0, 2));
  const run = startTailer([join(dir, 'access.log*')], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('every line', () => run.sink.lines.length === 5);
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('old')), lines('old', 7, 3));
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('new')), lines('new', 0, 2));
  // And the next scan does not read the copy again.
  await run.recover();
  await run.find(`${log}.1`);
  assert.equal(run.sink.lines.length, 5);
});

test('a copy found half-written while its original is read is left alone; at the truncation it continues at the original\'s offset', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('line', 0, 10));
  const run = startTailer([join(dir, 'access.log*')], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('all lines', () => run.sink.lines.length === 10);
  const content = readFileSync(log);
  writeFileSync(`${log}.1`, content.subarray(0, 37)); // logrotate's copy, cut mid-line
  await run.find(`${log}.1`);
  assert.equal(run.sink.lines.length, 10, 'the half copy is not read');
  appendFileSync(`${log}.1`, content.subarray(37));
  write(log, lines('line', 10, 2)); // nginx goes on writing while logrotate copies
  await waitFor('the two lines read from the original', () => run.sink.lines.length === 12);
  truncateSync(log, 0);
  write(log, lines('after', 0, 1));
  await run.poll();
  await waitFor('the new line', () => run.sink.lines.length === 13);
  await run.recover();
  await run.find(`${log}.1`);
  assert.deepEqual(run.sink.texts(), [...lines('line', 0, 12), 'after-0']);
  assert.equal(run.stats.counters.lost_bytes, 0, 'the two lines past the copy were read from the original: nothing lost');
});

test('copytruncate loses the lines written between the copy and the truncation that were not read: counted', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('line', 0, 4));
  const run = startTailer([log], join(dir, 'state'), { poll_interval_ms: 100_000 });
  run.sink.capacity = 4;
  t.after(() => run.stop());
  await run.started;
  await waitFor('4 lines', () => run.sink.lines.length === 4);
  copyFileSync(log, `${log}.1`);
  write(log, lines('late', 0, 2)); // after logrotate's copy, before its truncation
  await run.poll(); // the agent sees them (size) but cannot read them: the pipeline is full
  truncateSync(log, 0);
  run.sink.capacity = Infinity;
  await run.poll();
  run.tailer.resume();
  await waitFor('the truncation handled', () => run.stats.counters.truncations === 1);
  assert.equal(run.stats.counters.lost_bytes, Buffer.byteLength(lines('late', 0, 2).map((l) => l + '\n').join('')));
});

test('deleted while stopped, not read to its end: reported with its unread bytes, then forgotten', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('x', 0, 10));
  const first = await readSomeThenStop([log], join(dir, 'state'), 4);
  const unread = statSync(log).size - first.sink.lines[3]!.nextOffset;
  unlinkSync(log);
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  assert.equal(run.stats.counters.lost_files, 0, 'a file missing once is given a pass (a rename may be under way)');
  await run.recover();
  assert.equal(run.stats.counters.lost_files, 1);
  assert.equal(run.stats.counters.lost_bytes, unread);
  assert.equal(run.checkpoints.get(first.sink.lines[0]!.key), undefined);
});

test('a file read to its end and then deleted is forgotten quietly', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('x', 0, 5));
  const first = await readSomeThenStop([log], join(dir, 'state'), 5);
  unlinkSync(log);
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await run.recover();
  assert.equal(run.stats.counters.lost_files, 0);
  assert.equal(run.checkpoints.get(first.sink.lines[0]!.key), undefined);
});

test('late lines written to a rotated file after it was released are read at the next pass', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('a', 0, 3));
  const run = startTailer([log], join(dir, 'state'), { rotate_wait_ms: 0 });
  t.after(() => run.stop());
  await run.started;
  await waitFor('3 lines', () => run.sink.lines.length === 3);
  const key = run.sink.lines[0]!.key;
  renameSync(log, `${log}.1`);
  write(log, lines('b', 0, 1));
  await waitFor('the rotated file released', async () => {
    await run.poll();
    return !run.tailer.isFollowing(key) && run.sink.lines.length === 4;
  });
  write(`${log}.1`, lines('a', 3, 2)); // nginx had not reopened yet
  await run.recover();
  await waitFor('the late lines', () => run.sink.lines.length === 6);
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('a')), lines('a', 0, 5));
});

test('checkpoints written by an agent of format version 1 are taken over: a rename while stopped is still found', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 10));
  const first = await readSomeThenStop([log], join(dir, 'state'), 4);
  const file = join(dir, 'state', 'checkpoints.json');
  const v2 = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  const v1 = { version: 1, files: Object.fromEntries(Object.entries(v2.files).map(([k, v]) => [k, { path: v.path, offset: v.offset }])) };
  writeFileSync(file, JSON.stringify(v1));
  renameSync(log, `${log}.1`);
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('the rest of the old file', () => run.sink.lines.length === 6);
  assert.equal(run.sink.lines[0]!.lineOffset, first.sink.lines[3]!.nextOffset);
});

test('a copy shorter than what was read of its original keeps a checkpoint within its size: a restart reads nothing again', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('line', 0, 6));
  const paths = [join(dir, 'access.log*')];
  const run = startTailer(paths, join(dir, 'state'));
  await run.started;
  await waitFor('6 lines', () => run.sink.lines.length === 6);
  copyFileSync(log, `${log}.1`);
  write(log, lines('line', 6, 2)); // read from the original, never in the copy
  await waitFor('8 lines', () => run.sink.lines.length === 8);
  truncateSync(log, 0);
  await run.poll();
  await waitFor('the copy taken over', () => run.stats.counters.truncations === 1 && run.checkpoints.withFingerprint(run.sink.lines[0]!.key.split(':')[2]!).length === 1);
  await run.stop();
  const copyKey = run.checkpoints.withFingerprint(run.sink.lines[0]!.key.split(':')[2]!)[0]!;
  assert.equal(run.checkpoints.get(copyKey)!.offset, statSync(`${log}.1`).size, 'the checkpoint stops at the end of the copy');

  const again = startTailer(paths, join(dir, 'state'));
  t.after(() => again.stop());
  await again.started;
  await again.recover();
  await again.poll();
  assert.deepEqual(again.sink.texts(), []);
});
