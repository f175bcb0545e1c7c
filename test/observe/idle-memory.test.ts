import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleMemory } from '../../src/observe/idle-memory.ts';
import { waitFor } from '../support/wait.ts';

test('memory is given back once, a quiet period after the last activity, and not again until there is more', async () => {
  const times: number[] = [];
  const idle = new IdleMemory(150, () => times.push(Date.now()));
  const first = Date.now();
  idle.activity();
  // Activity keeps coming for ~300 ms: nothing is given back meanwhile.
  let last = first;
  while (Date.now() - first < 300) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    idle.activity();
    last = Date.now();
    assert.deepEqual(times, [], 'not while busy');
  }
  await waitFor('given back', () => times.length === 1);
  assert.ok(times[0]! - last >= 150, `${times[0]! - last} ms after the last activity`);
  idle.activity();
  await waitFor('given back after the next activity', () => times.length === 2);
  idle.stop();
});

test('stop() cancels what is pending', async () => {
  let calls = 0;
  const idle = new IdleMemory(10, () => calls++);
  idle.activity();
  idle.stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(calls, 0);
});
