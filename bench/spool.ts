/**
 * Spool throughput (not a test; numbers live here, never in timed tests):
 *   npm run bench:spool [-- dir]   (default: a temp dir under os.tmpdir())
 * Appends 1000-record batches of realistic records (~330-byte JSON values,
 * three headers), then reads them back with next() and acks them; prints
 * records/s and MB/s (MB of record values) per phase and fsync policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { OutMessage } from '../src/batch/types.ts';
import { encodePayload } from '../src/spool/format.ts';
import { Spool, type FsyncPolicy } from '../src/spool/index.ts';

const BATCHES = 300;
const RECORDS = 1000;
const base = process.argv[2] ?? tmpdir();
const log = pino({ level: 'silent' });

function makeBatch(b: number): Map<string, OutMessage[]> {
  const messages: OutMessage[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const n = b * RECORDS + i;
    const value = JSON.stringify({
      remote_addr: `10.1.${n % 256}.${(n >> 8) % 256}`,
      remote_user: null,
      '@timestamp': new Date(1_700_000_000_000 + n).toISOString(),
      request_method: 'GET',
      request_uri: `/api/v1/items/${n}?page=${n % 10}`,
      server_protocol: 'HTTP/1.1',
      status: 200,
      body_bytes_sent: 1000 + (n % 5000),
      http_referer: 'https://example.com/',
      http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      source: { host: 'gw-1', path: '/var/log/nginx/access.log' },
    });
    messages.push({ key: null, value, headers: { 'logship-id': `8f3a9c2e:${n * 330}`, 'logship-host': 'gw-1', 'logship-path': '/var/log/nginx/access.log' } });
  }
  return new Map([['nginx', messages]]);
}

let batches = Array.from({ length: BATCHES }, (_, b) => makeBatch(b));
const valueBytes = batches.reduce((s, m) => s + [...m.values()].flat().reduce((t, x) => t + x.value.length, 0), 0);
const records = BATCHES * RECORDS;
const rate = (label: string, ms: number, extra = '') =>
  console.log(`${label.padEnd(34)} ${(records / (ms / 1000)).toFixed(0).padStart(9)} records/s  ${(valueBytes / 1e6 / (ms / 1000)).toFixed(0).padStart(5)} MB/s  ${extra}`);

// Warm-up on other batches (JIT), then encode the measured ones once each, as the pipeline does.
for (let b = 0; b < 100; b++) encodePayload(makeBatch(BATCHES + b));
let t = performance.now();
let encoded = 0;
for (const b of batches) encoded += encodePayload(b).frame.length;
rate('encode only', performance.now() - t, `(${(encoded / valueBytes).toFixed(3)} bytes on disk per value byte)`);
const fresh = () => Array.from({ length: BATCHES }, (_, b) => makeBatch(b));

for (const fsync of ['interval', 'batch', 'always'] as FsyncPolicy[]) {
  for (const concurrency of fsync === 'batch' ? [1, 4] : [1]) {
    batches = fresh(); // strings seen for the first time, as in the pipeline
    const dir = mkdtempSync(join(base, 'logship-spool-bench-'));
    const spool = await Spool.open({ dir, maxBytes: 4 * 2 ** 30, segmentBytes: 64 << 20, fsync, fsyncIntervalMs: 1000, whenFull: 'block' }, log);
    t = performance.now();
    for (let i = 0; i < BATCHES; i += concurrency) {
      await Promise.all(batches.slice(i, i + concurrency).map((b) => spool.append(b, RECORDS)));
    }
    rate(`append fsync=${fsync} concurrency=${concurrency}`, performance.now() - t, `(${spool.stats().fsyncs} fdatasyncs)`);
    if (fsync === 'batch' && concurrency === 1) {
      await spool.close();
      const open = performance.now();
      const reopened = await Spool.open({ dir, maxBytes: 4 * 2 ** 30, segmentBytes: 64 << 20, fsync, fsyncIntervalMs: 1000, whenFull: 'block' }, log);
      const entries = [];
      t = performance.now();
      for (let e = await reopened.next(); e; e = await reopened.next()) entries.push(e);
      rate('next() (read + CRC + decode)', performance.now() - t, `(open + scan of ${(encoded / 1e6).toFixed(0)} MB: ${(t - open).toFixed(0)} ms)`);
      t = performance.now();
      for (const e of entries) await reopened.ack(e);
      rate(`ack (cursor write + fdatasync)`, performance.now() - t, `(${entries.length} acks)`);
      await reopened.close();
    } else {
      await spool.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
