import { basename, join } from 'node:path';
import { pino } from 'pino';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts';
import { buildConfig } from '../../src/config/load.ts';
import type { InputConfig } from '../../src/config/types.ts';
import { Stats } from '../../src/observe/stats.ts';
import { Tailer } from '../../src/tail/tailer.ts';
import type { FileSource, LineSink } from '../../src/tail/types.ts';

export interface Emitted {
  path: string;
  key: string;
  /** The record-id prefix the line would ship with. */
  id: string;
  text: string;
  lineOffset: number;
  nextOffset: number;
  truncated: boolean;
}

/** What a line is, without where it came from: for exact comparisons. */
export function seen(line: Emitted): { text: string; lineOffset: number; nextOffset: number; truncated: boolean } {
  return { text: line.text, lineOffset: line.lineOffset, nextOffset: line.nextOffset, truncated: line.truncated };
}

/**
 * A sink standing in for the pipeline: records every line and acks it at
 * once (as if Kafka had), so checkpoints advance; `capacity` makes it say
 * "full" to exercise backpressure.
 */
export class RecordingSink implements LineSink {
  readonly lines: Emitted[] = [];
  capacity = Infinity;
  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    this.lines.push({ path: file.path, key: file.key, id: file.id, text: buf.toString('utf8', start, end), lineOffset, nextOffset, truncated });
    file.tracker.ack(file.tracker.issue(nextOffset));
    return this.lines.length < this.capacity;
  }
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}

/** A real Tailer over real files, with fast timings, a recording sink and a checkpoint store in `stateDir`. */
export function startTailer(paths: string[], stateDir: string, settings: Partial<InputConfig> = {}, sink = new RecordingSink()) {
  const config = buildConfig({
    inputs: [{ paths, format: 'combined', poll_interval_ms: 20, scan_interval_ms: 100, rotate_wait_ms: 100, ...settings }],
    kafka: { brokers: ['unused:9092'], topic: 't' },
    state_dir: stateDir,
  });
  const log = pino({ level: process.env.LOGSHIP_TEST_LOG ?? 'silent' });
  const checkpoints = new CheckpointStore(join(stateDir), log);
  const stats = new Stats();
  const tailer = new Tailer(config.inputs[0]!, { sink, checkpoints, stats, log, source: (path) => ({ path }) });
  const internals = tailer as unknown as {
    poll(): Promise<void>;
    found(path: string): Promise<void>;
    recovery: { pass(): Promise<void> };
    files: { values(): IterableIterator<{ nextCheckAt: number; key: string; path: string; handle: unknown; released: boolean; detached: boolean; position: number }>; get(key: string): { handle: unknown } | undefined };
    pending: Set<string>;
    opening: Set<string>;
    polling: boolean;
    paused: boolean;
  };
  return {
    tailer,
    sink,
    stats,
    checkpoints,
    started: tailer.start(),
    /** Runs the poll now over every file, due or not (the tests' way to say "time passed"). */
    poll: () => {
      for (const file of internals.files.values()) file.nextCheckAt = 0;
      return internals.poll();
    },
    /** Identifies a path now, as a scan or a file event would. */
    find: (path: string) => internals.found(path),
    /** Whether the followed file with this identity has its descriptor open (not closed for max_open_files). */
    isOpen: (key: string) => internals.files.get(key)?.handle !== undefined,
    /** The tailer's state, for a failure message. */
    describe: () => {
      const now = Date.now();
      const files = [...internals.files.values()].map(
        (f) => `${basename(f.path)} ${f.key} at ${f.position}${f.handle ? ' open' : ' closed'}${f.detached ? ' detached' : ''}${f.released ? ' released' : ''} next check in ${f.nextCheckAt - now} ms`,
      );
      return [`polling ${internals.polling}, paused ${internals.paused}, pending [${[...internals.pending].map((p) => basename(p))}], opening [${[...internals.opening].map((p) => basename(p))}]`, ...files].join('\n');
    },
    /** Runs a recovery pass now, as the end of a scan does. */
    recover: () => internals.recovery.pass(),
    /** Stops the tailer and saves checkpoints, as a clean agent stop does. */
    async stop() {
      await tailer.stop();
      await checkpoints.close();
    },
  };
}
