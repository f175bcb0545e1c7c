/**
 * A stand-in for nginx under steady load, run as its own process by the
 * end-to-end bench: appends generated access-log lines to a file at a paced
 * rate, and writes each line's write time into the line itself, so a
 * consumer of the shipped records can tell how long each one took.
 *
 *   node bench/paced-writer.ts --file F --format combined --rate 100000 --seconds 20
 *
 * The write time (epoch ms, 13 digits) goes at the end of `$http_user_agent`
 * as ` wt/<ms>` (a variable both `combined` and `upstreaminfo` carry, written
 * quoted by nginx). Every 2 ms the writer appends, in one write(2), the lines
 * due by then, all stamped with the time taken just before that write.
 * Prints one JSON summary line on stdout when done. Exits when its stdin
 * closes (its parent is gone).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findPreset } from '../src/parse/presets.ts';
import { generateRequest, seededRandom } from './generate-lines.ts';
import { nginxWriter } from './nginx-writer.ts';

/** Marker before the write time in each line (and so in each record's http_user_agent). */
export const WRITE_TIME_MARK = ' wt/';
const PLACEHOLDER = '@WRITE@TIME@';
const TEMPLATES = 50_000;
const TICK_MS = 2;

export interface WriterSummary {
  written: number;
  firstWriteMs: number;
  lastWriteMs: number;
  /** Most lines in one write (normally rate × 2 ms; more when the writer's timer was late). */
  maxLinesPerWrite: number;
  writes: number;
}

/** Line templates split around the write-time placeholder: [before, after]. */
function templates(format: string, count: number): [string[], string[]] {
  const preset = findPreset(format);
  const write = nginxWriter(preset?.format ?? format, preset?.escape ?? 'default');
  const r = seededRandom(7);
  const before: string[] = [];
  const after: string[] = [];
  let now = Date.now();
  for (let i = 0; i < count; i++) {
    now += Math.floor(r() * 3);
    const values = generateRequest(r, now);
    values.http_user_agent = `${values.http_user_agent ?? '-'}${WRITE_TIME_MARK}${PLACEHOLDER}`;
    const line = write(values);
    const at = line.indexOf(PLACEHOLDER);
    if (at < 0) throw new Error(`format ${format} has no $http_user_agent to carry the write time`);
    before.push(line.slice(0, at));
    after.push(line.slice(at + PLACEHOLDER.length) + '\n');
  }
  return [before, after];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      format: { type: 'string', default: 'combined' },
      rate: { type: 'string', default: '100000' },
      seconds: { type: 'string', default: '20' },
    },
  });
  if (!values.file) throw new Error('--file is required');
  const rate = Number(values.rate);
  const total = Math.round(rate * Number(values.seconds));
  const [before, after] = templates(values.format, TEMPLATES);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(1));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');

  const fd = openSync(values.file, 'a');
  const summary: WriterSummary = { written: 0, firstWriteMs: 0, lastWriteMs: 0, maxLinesPerWrite: 0, writes: 0 };
  const start = performance.now();
  let t = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      let n = due - summary.written;
      if (n > 0) {
        summary.maxLinesPerWrite = Math.max(summary.maxLinesPerWrite, n);
        const now = Date.now();
        const stamp = String(now);
        let chunk = '';
        for (; n > 0; n--) {
          chunk += before[t]! + stamp + after[t]!;
          if (++t === TEMPLATES) t = 0;
        }
        writeSync(fd, chunk);
        summary.written = due;
        summary.writes++;
        if (summary.firstWriteMs === 0) summary.firstWriteMs = now;
        summary.lastWriteMs = now;
      }
      if (summary.written >= total) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  closeSync(fd);
  process.stdout.write(JSON.stringify(summary) + '\n');
  process.exit(0);
}

if (import.meta.main) await main();
