/**
 * SIGKILL at arbitrary instants while a process appends: on reopen, every
 * append that had resolved is there, in order, with no gap and nothing torn
 * replayed; entries left pending across crashes keep their place.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tempDir } from '../support/agent.ts';
import { waitFor } from '../support/wait.ts';
import { Spool } from '../../src/spool/index.ts';
import { captureLogger, numbers, options, range } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

for (const fsync of ['batch', 'interval'] as const) {
  test(`fsync: ${fsync}: killed mid-append five times, nothing resolved is lost and order holds`, async (t) => {
    const dir = join(tempDir(t), 'spool');
    const replayed: number[] = [];
    let next = 0;
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, [CHILD, dir, fsync, String(next)], { stdio: ['ignore', 'pipe', 'inherit'] });
      t.after(() => child.kill('SIGKILL'));
      const confirmed: number[] = [];
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => confirmed.push(...chunk.split('\n').filter(Boolean).map(Number)));
      const want = 30 + Math.floor(Math.random() * 60);
      await waitFor(`${want} appends confirmed`, () => confirmed.length >= want, 30_000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      const spool = await Spool.open(options(dir, { segmentBytes: 64 * 1024 }), captureLogger().log);
      // Drain all but a few entries: those stay pending across the next crash.
      const keep = round < 4 ? 3 : 0;
      const got: number[] = [];
      while (spool.stats().entries > keep) {
        const e = (await spool.next())!;
        got.push(...numbers(e.topics));
        await spool.ack(e);
      }
      const pendingAfter: number[] = [];
      for (let e = await spool.next(); e; e = await spool.next()) pendingAfter.push(...numbers(e.topics));
      await spool.close();
      replayed.push(...got);
      const all = [...got, ...pendingAfter];
      const lastConfirmed = Math.max(...confirmed);
      assert.ok(all.includes(lastConfirmed + 9), `round ${round}: the last confirmed batch (${lastConfirmed}) is in the spool`);
      next = (all.at(-1) ?? next - 1) + 1;
    }
    // Whatever was replayed over all rounds is one gapless sequence, in order.
    assert.deepEqual(replayed, range(0, replayed.length));
  });
}
