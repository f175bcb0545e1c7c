/**
 * The tailer against real file operations: what nginx and logrotate do.
 * Each test awaits the lines it expects; nothing sleeps for a fixed time.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { startTailer } from '../support/tailer-harness.ts';
import { waitFor } from '../support/wait.ts';

const lines = (prefix: string, from: number, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
const write = (path: string, items: string[]) => appendFileSync(path, items.map((l) => l + '\n').join(''));

test('rename + create: the old file is read to its end (writes after the rename too), then the new one from its start', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('old', 0, 5));
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('old lines', () => run.sink.lines.length === 5);

  renameSync(log, `${log}.1`);
  write(`${log}.1`, lines('old', 5, 3)); // nginx keeps writing to its open descriptor until USR1
  write(log, lines('new', 0, 4)); // nginx reopened: a new file at the path
  await waitFor('all lines', () => run.sink.lines.length === 12);
  await waitFor('old file released', () => run.stats.counters.rotations === 1 && !run.tailer.isFollowing(run.sink.lines[0]!.key));
  const byFile = (prefix: string) => run.sink.texts().filter((l) => l.startsWith(prefix));
  assert.deepEqual(byFile('old'), lines('old', 0, 8));
  assert.deepEqual(byFile('new'), lines('new', 0, 4));
  assert.equal(run.sink.lines.filter((l) => l.text.startsWith('new'))[0]!.lineOffset, 0);
});

test('copytruncate: truncation is detected and the new content is read from 0, nothing repeated', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('before', 0, 6));
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('first lines', () => run.sink.lines.length === 6);

  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('after', 0, 3));
  await waitFor('lines after truncation', () => run.sink.lines.length === 9);
  assert.deepEqual(run.sink.texts(), [...lines('before', 0, 6), ...lines('after', 0, 3)]);
  assert.equal(run.stats.counters.truncations, 1);
});

test('copytruncate: lines not read before the truncation are drained from the copy', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('before', 0, 10));
  const run = startTailer([log], join(dir, 'state'));
  run.sink.capacity = 4; // the pipeline is full: 6 lines are not read yet when logrotate strikes
  t.after(() => run.stop());
  await run.started;
  await waitFor('paused after 4 lines', () => run.sink.lines.length === 4);
  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('after', 0, 3));
  run.sink.capacity = Infinity;
  await run.poll(); // sees the truncation while still paused
  run.tailer.resume();
  await waitFor('every line, from the copy and the new file', () => run.sink.lines.length === 13);
  const texts = run.sink.texts();
  assert.deepEqual(texts.filter((l) => l.startsWith('before')), lines('before', 0, 10));
  assert.deepEqual(texts.filter((l) => l.startsWith('after')), lines('after', 0, 3));
  assert.deepEqual(run.sink.lines.filter((l) => l.text === 'before-4').map((l) => l.path), [`${log}.1`]);
});

test('copytruncate with a glob that matches the copies too: the copy resumes where the original was, nothing twice', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('before', 0, 8));
  const run = startTailer([join(dir, 'access.log*')], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('first lines', () => run.sink.lines.length === 8);
  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  write(log, lines('after', 0, 2));
  await waitFor('new lines', () => run.sink.lines.length === 10);
  await waitFor('the copy seen and released', () => run.stats.counters.truncations === 1);
  assert.deepEqual(run.sink.texts(), [...lines('before', 0, 8), ...lines('after', 0, 2)]);
});

test('copytruncate that regrows past the old offset before a poll is still caught by the fingerprint', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('a', 0, 2));
  const run = startTailer([log], join(dir, 'state'), { poll_interval_ms: 100_000 }); // polls only when told
  t.after(() => run.stop());
  await run.started;
  await waitFor('first lines', () => run.sink.lines.length === 2);
  // Rewritten longer than before in one go: the size alone does not show it.
  writeFileSync(log, lines('rewritten', 0, 5).map((l) => l + '\n').join(''));
  await run.poll();
  await waitFor('rewritten lines', () => run.sink.lines.length === 7);
  assert.deepEqual(run.sink.texts().slice(2), lines('rewritten', 0, 5));
});

test('delete while open: the bytes not read yet are still read, then the file is released', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('x', 0, 10));
  const run = startTailer([log], join(dir, 'state'));
  run.sink.capacity = 3; // the pipeline is full after 3 lines: reading pauses
  t.after(() => run.stop());
  await run.started;
  await waitFor('paused after 3 lines', () => run.sink.lines.length === 3 && run.stats.counters.backpressure_pauses === 1);
  unlinkSync(log);
  run.sink.capacity = Infinity;
  run.tailer.resume();
  await waitFor('the rest of the deleted file', () => run.sink.lines.length === 10);
  await waitFor('released', () => !run.tailer.isFollowing(run.sink.lines[0]!.key));
  assert.deepEqual(run.sink.texts(), lines('x', 0, 10));
});

test('a new file that reuses the inode of a deleted one is a new file: read from 0, not from the old checkpoint', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('first-file', 0, 20));
  const state = join(dir, 'state');
  const one = startTailer([log], state);
  await one.started;
  await waitFor('first file', () => one.sink.lines.length === 20);
  await one.stop();
  const inode = statSync(log).ino;

  unlinkSync(log);
  write(log, lines('second', 0, 3)); // shorter than the old checkpoint's offset? not necessarily: the fingerprint decides
  write(log, lines('second', 3, 40));
  const two = startTailer([log], state);
  t.after(() => two.stop());
  await two.started;
  await waitFor('second file', () => two.sink.lines.length === 43);
  assert.deepEqual(two.sink.texts(), lines('second', 0, 43));
  assert.equal(two.sink.lines[0]!.lineOffset, 0);
  t.diagnostic(`inode ${statSync(log).ino === inode ? 'was' : 'was not'} reused by the filesystem`);
});

test('a restart resumes each file at its checkpoint', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  write(log, lines('a', 0, 5));
  const state = join(dir, 'state');
  const one = startTailer([log], state);
  await one.started;
  await waitFor('first run', () => one.sink.lines.length === 5);
  await one.stop();
  write(log, lines('a', 5, 5));
  const two = startTailer([log], state);
  t.after(() => two.stop());
  await two.started;
  await waitFor('second run', () => two.sink.lines.length === 5);
  assert.deepEqual(two.sink.texts(), lines('a', 5, 5));
});

test('max_open_files bounds descriptors; closed files are reopened when they grow', async (t) => {
  const dir = tempDir(t);
  const paths = Array.from({ length: 12 }, (_, i) => join(dir, `f${String(i).padStart(2, '0')}.log`));
  paths.forEach((p, i) => write(p, lines(`f${i}`, 0, 3)));
  const run = startTailer([join(dir, '*.log')], join(dir, 'state'), { max_open_files: 3 });
  t.after(() => run.stop());
  await run.started;
  await waitFor('every file read', () => run.sink.lines.length === 36);
  assert.ok(run.tailer.openDescriptors <= 3, `open descriptors: ${run.tailer.openDescriptors}`);
  assert.ok(run.stats.counters.files_closed_idle >= 9);

  write(paths[0]!, lines('f0', 3, 2));
  write(paths[1]!, lines('f1', 3, 2));
  await waitFor('growth of closed files', () => run.sink.lines.length === 40);
  assert.deepEqual(run.sink.texts().filter((l) => l.startsWith('f0-')), lines('f0', 0, 5));
  assert.ok(run.tailer.openDescriptors <= 3);
});

test('thousands of files in one glob are all followed within the descriptor budget', async (t) => {
  const dir = tempDir(t);
  const count = 2000;
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `pod-${i}.log`), `line-of-${i}\n`);
  const run = startTailer([join(dir, '*.log')], join(dir, 'state'), { max_open_files: 64 });
  t.after(() => run.stop());
  await run.started;
  await waitFor('every file read', () => run.sink.lines.length === count, 60_000);
  assert.equal(new Set(run.sink.texts()).size, count);
  assert.ok(run.tailer.openDescriptors <= 64);
});

test('a partial last line waits for its newline, or is shipped after partial_line_flush_ms of quiet', async (t) => {
  const dir = tempDir(t);
  const waiting = join(dir, 'waits.log');
  const flushing = join(dir, 'flushes.log');
  writeFileSync(waiting, 'complete\nhalf');
  const run = startTailer([waiting], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  await waitFor('the complete line', () => run.sink.lines.length === 1);
  appendFileSync(waiting, '-done\n');
  await waitFor('the line once its newline came', () => run.sink.lines.length === 2);
  assert.deepEqual(run.sink.texts(), ['complete', 'half-done']);

  writeFileSync(flushing, 'complete\nno newline ever');
  const flush = startTailer([flushing], join(dir, 'state2'), { partial_line_flush_ms: 50 });
  t.after(() => flush.stop());
  await flush.started;
  await waitFor('the partial line flushed', () => flush.sink.lines.length === 2);
  assert.deepEqual(flush.sink.texts(), ['complete', 'no newline ever']);
  assert.equal(flush.stats.counters.partial_lines_flushed, 1);
});

test('a file whose first line is not complete yet is followed once it is', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, 'start of the first line');
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  assert.equal(run.tailer.isFollowing('anything'), false);
  appendFileSync(log, ' and its end\nsecond\n');
  await waitFor('both lines', () => run.sink.lines.length === 2);
  assert.deepEqual(run.sink.texts(), ['start of the first line and its end', 'second']);
});

test('start_at end skips what existing files hold; files that appear later are read whole', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'old.log'), lines('history', 0, 50));
  const run = startTailer([join(dir, '*.log')], join(dir, 'state'), { start_at: 'end' });
  t.after(() => run.stop());
  await run.started;
  write(join(dir, 'old.log'), lines('live', 0, 2));
  write(join(dir, 'new.log'), lines('fresh', 0, 3));
  await waitFor('live and fresh lines', () => run.sink.lines.length === 5);
  assert.deepEqual(run.sink.texts().sort(), [...lines('fresh', 0, 3), ...lines('live', 0, 2)].sort());
});

test('ignore_older leaves stale files alone', async (t) => {
  const dir = tempDir(t);
  const stale = join(dir, 'stale.log');
  write(stale, lines('stale', 0, 3));
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(stale, hourAgo, hourAgo);
  write(join(dir, 'fresh.log'), lines('fresh', 0, 2));
  const run = startTailer([join(dir, '*.log')], join(dir, 'state'), { ignore_older_ms: 60_000 });
  t.after(() => run.stop());
  await run.started;
  await waitFor('fresh lines', () => run.sink.lines.length === 2);
  assert.deepEqual(run.sink.texts(), lines('fresh', 0, 2));
});

test('a tailer with nothing to follow arms no poll (none for "never", which Node ran every 1 ms), and reads a file that appears later', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const run = startTailer([log], join(dir, 'state'));
  t.after(() => run.stop());
  await run.started;
  // Nothing to wait for but time: five poll intervals (20 ms) with no file.
  await new Promise((resolve) => setTimeout(resolve, 100));
  write(log, lines('late', 0, 3));
  await waitFor('the late file', () => run.sink.lines.length === 3);
  assert.deepEqual(warnings, []);
});
