/**
 * Appends numbered 10-record batches to a spool forever, printing each
 * batch's first record number once its append resolved; killed by
 * crash.test.ts. Usage: node crash-child.ts DIR FSYNC START
 */
import { pino } from 'pino';
import { Spool, type FsyncPolicy } from '../../src/spool/index.ts';
import { batch } from './helpers.ts';

const [dir, fsync, start] = process.argv.slice(2) as [string, FsyncPolicy, string];
const spool = await Spool.open({ dir, maxBytes: 1 << 30, segmentBytes: 64 * 1024, fsync, fsyncIntervalMs: 20, whenFull: 'block' }, pino({ level: 'silent' }));
let n = Number(start);
while (true) {
  // Two appends in flight at once, so batch mode groups them.
  const a = n;
  const b = n + 10;
  n += 20;
  await Promise.all([spool.append(batch(a, 10), 10).then(() => process.stdout.write(`${a}\n`)), spool.append(batch(b, 10), 10).then(() => process.stdout.write(`${b}\n`))]);
}
