/** Shared by the spool tests: batches with recognisable records, a logger that keeps its lines. */
import { pino } from 'pino';
import type { OutMessage } from '../../src/batch/types.ts';
import type { Logger } from '../../src/observe/logger.ts';
import type { Spool, SpoolOptions } from '../../src/spool/index.ts';

export interface CapturedLog {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { log: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as CapturedLog) });
  return { log, lines };
}

/** `count` records numbered from `first`, on one or two topics; record n's value names n. */
export function batch(first: number, count: number, topics = ['access']): Map<string, OutMessage[]> {
  const map = new Map<string, OutMessage[]>();
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const topic = topics[n % topics.length]!;
    let list = map.get(topic);
    if (!list) map.set(topic, (list = []));
    list.push({
      key: n % 3 === 0 ? null : `10.0.0.${n % 7}`,
      value: JSON.stringify({ n, remote_addr: `10.0.0.${n % 7}`, request: `GET /p/${n} HTTP/1.1`, status: 200, note: n % 5 === 0 ? 'ünïcödé ✓ 🚀' : '' }),
      headers: { 'logship-id': `file-1:${n * 100}`, 'logship-host': 'gw-1', 'logship-path': n % 2 === 0 ? '/var/log/nginx/access.log' : '/var/log/nginx/other.log' },
    });
  }
  return map;
}

/** The record numbers in a batch, in order per topic, topics concatenated. */
export function numbers(topics: Map<string, OutMessage[]>): number[] {
  return [...topics.values()].flat().map((m) => (JSON.parse(m.value) as { n: number }).n);
}

export function options(dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, maxBytes: 64 << 20, segmentBytes: 1 << 20, fsync: 'batch', fsyncIntervalMs: 1000, whenFull: 'block', ...extra };
}

/** Takes every entry out (next + ack); returns the record numbers in replay order. */
export async function drain(spool: Spool): Promise<number[]> {
  const out: number[] = [];
  for (let e = await spool.next(); e; e = await spool.next()) {
    out.push(...numbers(e.topics));
    await spool.ack(e);
  }
  return out;
}

export const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
