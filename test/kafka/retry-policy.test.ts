/** The one retry policy of delivery: backoff figures and the pause that ends early. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, pause } from '../../src/kafka/retry-policy.ts';

test('backoff doubles from initialMs to maxMs, half fixed and half random, and starts over after reset()', () => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0);
  assert.deepEqual(Array.from({ length: 7 }, () => low.next()), [50, 100, 200, 400, 500, 500, 500]);
  assert.equal(low.streak, 7);
  low.reset();
  assert.equal(low.next(), 50);
  const high = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0.999999);
  assert.deepEqual(Array.from({ length: 6 }, () => Math.round(high.next())), [100, 200, 400, 800, 1000, 1000]);
});

test('backoff keeps its jitter at the cap (agents do not retry in step), and never overflows', () => {
  const backoff = new Backoff({ initialMs: 10, maxMs: 30_000 });
  for (let i = 0; i < 5000; i++) backoff.next();
  const atCap = Array.from({ length: 200 }, () => backoff.next());
  assert.ok(atCap.every((d) => Number.isFinite(d) && d >= 15_000 && d <= 30_000), 'within [max/2, max]');
  assert.ok(new Set(atCap.map((d) => Math.round(d))).size > 100, 'spread out');
});

test('pause ends at its time, or early when woken or aborted; it never rejects', async () => {
  let started = performance.now();
  await pause(30);
  assert.ok(performance.now() - started >= 29);

  started = performance.now();
  let wake!: () => void;
  const woken = pause(60_000, { wake: new Promise<void>((resolve) => (wake = resolve)) });
  setImmediate(wake);
  await woken;
  assert.ok(performance.now() - started < 5_000, 'woken');

  started = performance.now();
  await pause(60_000, { wake: Promise.reject(new Error('closed')) });
  assert.ok(performance.now() - started < 5_000, 'a rejected wake ends it too');

  const stop = new AbortController();
  started = performance.now();
  const aborted = pause(60_000, { signal: stop.signal });
  setImmediate(() => stop.abort());
  await aborted;
  assert.ok(performance.now() - started < 5_000, 'aborted');
  started = performance.now();
  await pause(60_000, { signal: stop.signal });
  assert.ok(performance.now() - started < 5_000, 'already aborted');
});
