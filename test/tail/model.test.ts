/**
 * Model-based test of the tailer, in the spirit of Vector's file-source
 * `model_tests`: fast-check generates random sequences of what nginx,
 * logrotate and an operator do (writes, rename rotations, copytruncate,
 * truncation, deletion, agent stops, crashes and starts); each operation is
 * applied to real files under a real Tailer AND to a tiny ideal model that
 * decides, for every line written, whether the agent MUST ship it, MAY ship
 * it (it was legitimately lost), and whether it MAY ship it twice (a crash
 * past the last saved checkpoint). After a final settle the lines the
 * tailer emitted are checked against the model.
 *
 * The promises (what an operator may count on):
 *
 * - A line written to a file at a path the glob matches must arrive, as long
 *   as that file stays reachable: at a matching path, held open by the
 *   running tailer (draining a rotated, deleted or copied file), or known.
 * - A file "held" by the tailer is one it follows (`isFollowing` its
 *   identity) at the moment the file leaves the glob. A file "known" has a
 *   checkpoint (the running tailer's, or, while the agent is stopped, the
 *   one on disk that the next run loads), or is a copy of one (same first
 *   line): a checkpoint is a promise to finish that file wherever rotation
 *   moves it in its directory, renamed or copied, whether the agent runs or
 *   not. A file created and rotated away (or copytruncated, or deleted)
 *   before the tailer ever followed it may lose its lines: no agent can read
 *   what it never saw.
 * - Lines written to a rotated file that stays in its directory must arrive
 *   when the file is known, however late ("nginx writes until it reopens");
 *   to a deleted file the tailer holds, if written within half of
 *   `rotate_wait_ms` of the deletion: the setting promises to keep the file
 *   open that long for late writes. Later ones may be lost.
 * - copytruncate: the lines not read yet survive in the copy; the tailer
 *   drains them from it, before or after a restart, from where the
 *   original's checkpoint says. Truncation without a copy loses what was
 *   not read yet (it exists nowhere any more); so does deletion while the
 *   agent is stopped.
 * - Duplicates: never within one run, never after a clean stop. After a
 *   crash (tailer stopped, checkpoints not saved), the lines emitted past
 *   the last SAVED checkpoint of a file (or of the file it is a copy of)
 *   may come twice; the test harness has no auto-save timer, the `save`
 *   operation plays its tick.
 * - Lines of one file arrive in order within a run (also when drained from
 *   a copy), each with its exact byte offset in the file.
 * - Nothing arrives that was never written.
 * - The pipeline being full (`block`) delays lines, never loses them.
 *
 * Waiting: `settle` waits until every required line arrived, `tick` until
 * the tailer follows every live file, `seen` (on logrotate operations) until
 * it follows the file about to be rotated; all poll a condition. Only
 * `idle` sleeps: it is an input (a quiet server), not a synchronisation.
 * After a copytruncate of a file the tailer held, the test waits until the
 * tailer drained or took over the copy: logrotate does not run again within
 * a poll interval, and the next run would replace that copy.
 *
 * Reproduce a failure: LOGSHIP_MODEL_SEED=<seed> LOGSHIP_MODEL_PATH=<path>
 * (both printed by fast-check). LOGSHIP_MODEL_RUNS_SCALE multiplies the run
 * counts; LOGSHIP_MODEL_SETTLE_MS bounds each wait (default 2000 ms: only a
 * failing run waits that long; a failing property takes a minute or two to
 * shrink); LOGSHIP_TEST_LOG=info shows the tailer's log.
 */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, copyFileSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, matchesGlob } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { identityKey } from '../../src/tail/identity.ts';
import { fingerprintOf } from '../../src/tail/fingerprint.ts';
import type { InputConfig } from '../../src/config/types.ts';
import { RecordingSink, startTailer } from '../support/tailer-harness.ts';
import { waitFor } from '../support/wait.ts';

const SETTINGS: Partial<InputConfig> = { poll_interval_ms: 10, scan_interval_ms: 50, rotate_wait_ms: 100, fingerprint_bytes: 256 };
const LATE_WRITE_WINDOW_MS = SETTINGS.rotate_wait_ms! / 2;
/** Everything the model requires arrives within a few polls; this only bounds a failing run (and shrinking). */
const SETTLE_TIMEOUT_MS = Number(process.env.LOGSHIP_MODEL_SETTLE_MS ?? 2000);
const RUNS_SCALE = Number(process.env.LOGSHIP_MODEL_RUNS_SCALE ?? 1);

// ---------------------------------------------------------------- operations

/**
 * What happens to the files. `seen`: logrotate or the operator acts long
 * after the file appeared (the tailer follows it by then: it is waited
 * for); without it the operation may race the tailer discovering the file.
 */
type FileOp =
  | { op: 'write'; slot: number; n: number }
  /** logrotate renames the live file to `.1` (replacing the old one); nginx writes `late` lines to it, then reopens. `pause`: nginx reopens only after the agent noticed the rotation. */
  | { op: 'rotate'; slot: number; late: number; pause: boolean; seen: boolean }
  /** The live file is unlinked; nginx writes `late` lines to its descriptor, then reopens (creating it anew). */
  | { op: 'delete'; slot: number; late: number; pause: boolean; seen: boolean }
  /** logrotate copytruncate: drop the old `.1`, copy live → `.1`, truncate live to 0. `slow`: the copy is written in two parts (cut anywhere, mid-line too), with time for the agent to find the half-written copy in between. */
  | { op: 'copytruncate'; slot: number; seen: boolean; slow: boolean }
  /** Truncate live to 0 without a copy. */
  | { op: 'truncate'; slot: number; seen: boolean };

type Op =
  | FileOp
  /** The pipeline drains, then we wait until the tailer emitted every line the model requires so far. */
  | { op: 'settle' }
  /** Time passes: wait until the tailer follows every live file that has a line (it may still have lines to read). */
  | { op: 'tick' }
  /** The pipeline is full after `room` more lines: the tailer stops reading, lines stay unread in the files. */
  | { op: 'block'; room: number }
  /** The pipeline has room again. */
  | { op: 'unblock' }
  /** The checkpoint store's auto-save timer fires. */
  | { op: 'save' }
  /** A quiet server: no line for longer than rotate_wait_ms (a scenario input, not a way to wait for the tailer). */
  | { op: 'idle' }
  /** The agent stops, clean (checkpoints saved) or in a crash (not saved); `down` happens to the files meanwhile; it starts again. */
  | { op: 'restart'; crash: boolean; down: FileOp[] };

const fileOpArbitrary = (slots: number): fc.Arbitrary<FileOp> => {
  const slot = fc.integer({ min: 0, max: slots - 1 });
  const seen = fc.boolean();
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('write' as const), slot, n: fc.integer({ min: 1, max: 5 }) }), weight: 8 },
    { arbitrary: fc.record({ op: fc.constant('rotate' as const), slot, late: fc.integer({ min: 0, max: 3 }), pause: fc.boolean(), seen }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('delete' as const), slot, late: fc.integer({ min: 0, max: 2 }), pause: fc.boolean(), seen }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('copytruncate' as const), slot, seen, slow: fc.boolean() }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('truncate' as const), slot, seen }), weight: 1 },
  );
};

const opArbitrary = (slots: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { arbitrary: fileOpArbitrary(slots), weight: 16 },
    { arbitrary: fc.constant({ op: 'settle' as const }), weight: 2 },
    { arbitrary: fc.constant({ op: 'tick' as const }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('block' as const), room: fc.integer({ min: 0, max: 3 }) }), weight: 2 },
    { arbitrary: fc.constant({ op: 'unblock' as const }), weight: 1 },
    { arbitrary: fc.constant({ op: 'save' as const }), weight: 1 },
    { arbitrary: fc.constant({ op: 'idle' as const }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('restart' as const), crash: fc.boolean(), down: fc.array(fileOpArbitrary(slots), { maxLength: 3 }) }), weight: 2 },
  );

// --------------------------------------------------------------------- model

interface Line {
  text: string;
  /** The file content (one inode between truncations) the line was written into; order is checked per gen. */
  gen: string;
  idx: number;
  /** Byte offset of the line in its file (and in any copy of it). */
  offset: number;
  /** Must arrive at least once; cleared when it becomes unreachable before it arrived. */
  required: boolean;
  /** May arrive in two runs: emitted before a crash, past the last saved checkpoint. */
  dupOk: boolean;
  why?: string;
}

/** One physical file (inode). */
interface MFile {
  id: number;
  path: string | undefined; // undefined: unlinked
  dev: number;
  ino: number;
  lines: Line[];
  bytes: number;
  gen: number;
  /** Left the glob while the running tailer followed it: it is drained from the open descriptor. */
  held: boolean;
  leftAt: number;
}

interface Scenario {
  name: string;
  slots: number;
  /** Live file of a slot, relative to the log directory. */
  live(slot: number): string;
  glob: string;
  /** Settings of this scenario on top of SETTINGS. */
  settings?: Partial<InputConfig>;
}

class World {
  readonly dir: string;
  readonly logs: string;
  readonly state: string;
  readonly scenario: Scenario;
  readonly files: MFile[] = [];
  readonly lines = new Map<string, Line>();
  readonly allLines: Line[] = [];
  /** nginx: the file and descriptor each slot writes to (always the live path, between ops). */
  readonly nginx: ({ file: MFile; fd: number } | undefined)[];
  readonly sinks: RecordingSink[] = [];
  readonly trace: string[] = [];
  run: ReturnType<typeof startTailer> | undefined;
  /** The tailer's own counters, summed over runs. */
  readonly counters = { rotations: 0, truncations: 0 };
  private seq = 0;
  private nextFileId = 0;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.dir = mkdtempSync(join(tmpdir(), 'logship-model-'));
    this.logs = join(this.dir, 'logs');
    this.state = join(this.dir, 'state');
    mkdirSync(this.logs);
    this.nginx = Array.from({ length: scenario.slots }, () => undefined);
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  matches(path: string | undefined): boolean {
    return path !== undefined && matchesGlob(path, join(this.logs, this.scenario.glob));
  }

  live(slot: number): string {
    return join(this.logs, this.scenario.live(slot % this.scenario.slots));
  }

  fileAt(path: string): MFile | undefined {
    return this.files.find((f) => f.path === path);
  }

  key(file: MFile): string | undefined {
    const first = file.lines[0];
    if (!first) return undefined;
    return identityKey(file, fingerprintOf(Buffer.from(first.text + '\n'), SETTINGS.fingerprint_bytes!)!);
  }

  /** Whether the running tailer follows `file` now. */
  followed(file: MFile): boolean {
    const key = this.key(file);
    return this.run !== undefined && key !== undefined && this.run.tailer.isFollowing(key);
  }

  /**
   * Followed with its descriptor open: only then can it be read after it is
   * unlinked. With a descriptor budget smaller than the files, none is held:
   * the budget may close a file the moment it is unlinked, before the agent
   * can know, and a closed unlinked file cannot be opened again (its unread
   * lines are lost, and counted as such).
   */
  holds(file: MFile): boolean {
    if (this.scenario.settings?.max_open_files !== undefined) return false;
    const key = this.key(file);
    return this.followed(file) && this.run!.isOpen(key!);
  }

  /** Identities with a checkpoint: the running tailer's, or those on disk that the next run loads. */
  knownKeys(): string[] {
    if (this.run) return [...this.run.checkpoints.keys()];
    const path = join(this.state, 'checkpoints.json');
    return existsSync(path) ? Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { files: object }).files) : [];
  }

  /** Has a checkpoint, or is a copy of a file that has one (same first line). */
  known(file: MFile, keys = this.knownKeys()): boolean {
    const key = this.key(file);
    if (key === undefined) return false;
    const fingerprint = key.slice(key.lastIndexOf(':') + 1);
    return keys.some((k) => k === key || k.endsWith(`:${fingerprint}`));
  }

  reachable(file: MFile, keys = this.knownKeys()): boolean {
    return this.matches(file.path) || (file.path !== undefined && this.known(file, keys)) || (this.running && file.held);
  }

  emittedTexts(): Set<string> {
    const set = new Set<string>();
    for (const sink of this.sinks) for (const l of sink.lines) set.add(l.text);
    return set;
  }

  note(message: string): void {
    this.trace.push(message);
  }

  /** A file moves (undefined: unlinked). Leaving the glob, it stays reachable only if the tailer holds it. */
  move(file: MFile, to: string | undefined): void {
    if (this.matches(file.path) && !this.matches(to)) {
      file.held = this.holds(file);
      file.leftAt = Date.now();
      this.note(`  file#${file.id} leaves the glob (${to ?? 'unlinked'}), ${file.held ? 'held by the tailer' : 'not held'}`);
    }
    file.path = to;
  }

  newFile(path: string, dev: number, ino: number, lines: Line[] = [], bytes = 0): MFile {
    const file: MFile = { id: this.nextFileId++, path, dev, ino, lines, bytes, gen: 0, held: false, leftAt: 0 };
    this.files.push(file);
    this.note(`  file#${file.id} is ${basename(path)}, inode ${ino}`);
    return file;
  }

  /** nginx opens the live path (O_APPEND|O_CREAT), as at start-up or on reopen. */
  nginxOpen(slot: number): { file: MFile; fd: number } {
    const path = this.live(slot);
    const fd = openSync(path, 'a');
    const st = fstatSync(fd);
    const file = this.fileAt(path) ?? this.newFile(path, st.dev, st.ino);
    const handle = { file, fd };
    this.nginx[slot] = handle;
    return handle;
  }

  nginxClose(slot: number): void {
    const handle = this.nginx[slot];
    if (handle) closeSync(handle.fd);
    this.nginx[slot] = undefined;
  }

  /** nginx appends `n` lines to the file its descriptor points at. */
  append(slot: number, n: number): void {
    const { file, fd } = this.nginx[slot] ?? this.nginxOpen(slot);
    const late = !this.matches(file.path);
    const lateInTime = Date.now() - file.leftAt < LATE_WRITE_WINDOW_MS;
    const required = !late || (file.path !== undefined && this.known(file)) || (this.running && file.held && lateInTime);
    const texts: string[] = [];
    for (let i = 0; i < n; i++) {
      const seq = this.seq++;
      const text = `L${seq} ${'x'.repeat(seq % 11)}`;
      const line: Line = { text, gen: `${file.id}.${file.gen}`, idx: file.lines.length, offset: file.bytes, required, dupOk: false };
      if (!required) line.why = `written to file#${file.id} out of the glob ${file.held ? `${Date.now() - file.leftAt} ms after it left` : 'not held by the tailer'}`;
      file.lines.push(line);
      file.bytes += Buffer.byteLength(text) + 1;
      this.lines.set(text, line);
      this.allLines.push(line);
      texts.push(text);
    }
    writeSync(fd, texts.map((t) => t + '\n').join(''));
    this.note(`  ${texts[0]}..${texts.at(-1)} → file#${file.id}${late ? ` (late write, ${required ? 'required' : 'optional'})` : ''}`);
  }

  /** Lines not arrived yet that no reachable file holds any more are lost: no longer required. */
  recompute(why: string): void {
    const emitted = this.emittedTexts();
    const reachable = new Set<Line>();
    const keys = this.knownKeys();
    for (const file of this.files) if (this.reachable(file, keys)) for (const line of file.lines) reachable.add(line);
    const lost: string[] = [];
    for (const line of this.allLines) {
      if (line.required && !emitted.has(line.text) && !reachable.has(line)) {
        line.required = false;
        line.why = `unread when ${why}`;
        lost.push(line.text);
      }
    }
    if (lost.length > 0) this.note(`  legitimately lost (${why}): ${lost.join(', ')}`);
  }

  missing(): Line[] {
    const emitted = this.emittedTexts();
    return this.allLines.filter((l) => l.required && !emitted.has(l.text));
  }

  async settle(): Promise<void> {
    if (!this.running) return;
    try {
      await waitFor('required lines', () => this.missing().length === 0, SETTLE_TIMEOUT_MS, 5);
    } catch {
      this.fail(`lines lost: ${this.missing().map((l) => l.text).join(', ')}`);
    }
  }

  get blocked(): boolean {
    return this.run !== undefined && this.run.sink.capacity !== Infinity;
  }

  unblock(): void {
    if (!this.run || !this.blocked) return;
    this.run.sink.capacity = Infinity;
    this.run.tailer.resume();
  }

  /** Waits until the tailer follows the live file of `slot` (if it has a line). */
  async seen(slot: number): Promise<void> {
    const file = this.fileAt(this.live(slot % this.scenario.slots));
    if (!this.run || !file || file.lines.length === 0) return;
    await this.expect(`follow file#${file.id}`, () => this.followed(file));
  }

  async tick(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const lives = this.nginx.flatMap((n) => (n && n.file.lines.length > 0 && this.matches(n.file.path) ? [n.file] : []));
    await this.expect(`follow ${lives.map((f) => `file#${f.id}`).join(', ')}`, () => lives.every((f) => this.followed(f)));
  }

  fail(message: string): never {
    // Each line with where it came from: file name and inode (the key's middle part).
    const emitted = this.sinks.map((s, i) => `run ${i}: ${s.lines.map((l) => `${l.text.split(' ')[0]}@${l.lineOffset}(${basename(l.path)}#${l.key.split(':')[1]})`).join(' ')}`);
    throw new Error(`${message}\n--- in ${this.dir} ---\n--- model trace ---\n${this.trace.join('\n')}\n--- emitted ---\n${emitted.join('\n')}`);
  }

  /** Waits for a tailer reaction the model relies on (a bug if it never comes). */
  async expect(what: string | (() => string), probe: () => boolean): Promise<void> {
    try {
      await waitFor('the tailer', probe, SETTLE_TIMEOUT_MS, 2);
    } catch {
      this.fail(`the tailer never got to: ${typeof what === 'string' ? what : what()}\n--- tailer state ---\n${this.run?.describe() ?? 'not running'}`);
    }
  }

  // ------------------------------------------------------------ operations

  async apply(op: Op): Promise<void> {
    this.note(JSON.stringify(op) + (this.running ? '' : ' (agent stopped)'));
    switch (op.op) {
      case 'write':
        this.append(op.slot % this.scenario.slots, op.n);
        break;
      case 'rotate':
      case 'delete':
        if (op.seen) await this.seen(op.slot);
        await this.rotateOrDelete(op.slot % this.scenario.slots, op.op, op.late, op.pause);
        break;
      case 'copytruncate':
        if (op.seen) await this.seen(op.slot);
        await this.copytruncate(op.slot % this.scenario.slots, op.slow);
        break;
      case 'truncate': {
        if (op.seen) await this.seen(op.slot);
        const slot = op.slot % this.scenario.slots;
        const file = this.fileAt(this.live(slot));
        if (!file) break;
        truncateSync(this.live(slot), 0);
        this.truncated(file);
        break;
      }
      case 'settle':
        this.unblock();
        await this.settle();
        break;
      case 'tick':
        await this.tick();
        break;
      case 'block':
        if (this.run) this.run.sink.capacity = this.run.sink.lines.length + op.room;
        break;
      case 'unblock':
        this.unblock();
        break;
      case 'save':
        await this.run?.checkpoints.save();
        break;
      case 'idle':
        await sleep(SETTINGS.rotate_wait_ms! + 20);
        break;
      case 'restart':
        await this.stop(op.crash);
        this.recompute(op.crash ? 'crash' : 'stop');
        for (const down of op.down) await this.apply(down);
        await this.start();
        break;
    }
    this.recompute(op.op);
  }

  private truncated(file: MFile): void {
    file.lines = [];
    file.bytes = 0;
    file.gen++;
  }

  private async rotateOrDelete(slot: number, how: 'rotate' | 'delete', late: number, pause: boolean): Promise<void> {
    const live = this.live(slot);
    const file = this.fileAt(live);
    if (!file) return;
    const rotations = this.run?.stats.counters.rotations ?? 0;
    if (how === 'rotate') {
      const target = `${live}.1`;
      const old = this.fileAt(target);
      if (old) this.move(old, undefined);
      renameSync(live, target);
      this.move(file, target);
    } else {
      unlinkSync(live);
      this.move(file, undefined);
    }
    if (pause && this.run && file.held && late > 0 && !this.blocked) {
      // nginx reopens a little later than the rename: after the agent noticed it.
      const run = this.run;
      await this.expect('notice the rotation', () => (run.stats.counters.rotations ?? 0) > rotations);
    }
    if (late > 0 && this.nginx[slot]?.file === file) this.append(slot, late);
    this.nginxClose(slot);
    this.nginxOpen(slot);
  }

  private async copytruncate(slot: number, slow: boolean): Promise<void> {
    const live = this.live(slot);
    const file = this.fileAt(live);
    if (!file) return;
    const held = this.holds(file);
    const target = `${live}.1`;
    const old = this.fileAt(target);
    if (old) {
      unlinkSync(target);
      this.move(old, undefined);
    }
    let copy: MFile;
    if (slow) {
      // As logrotate copies in chunks: the copy exists half written for a while (an input, not a wait for the tailer).
      const content = readFileSync(live);
      const cut = Math.floor(content.length / 2);
      writeFileSync(target, content.subarray(0, cut));
      const st = statSync(target);
      copy = this.newFile(target, st.dev, st.ino, file.lines.slice(), file.bytes);
      await sleep(SETTINGS.scan_interval_ms! + 20);
      appendFileSync(target, content.subarray(cut));
    } else {
      copyFileSync(live, target);
      const st = statSync(target);
      copy = this.newFile(target, st.dev, st.ino, file.lines.slice(), file.bytes);
    }
    truncateSync(live, 0);
    this.truncated(file);
    // The copy is out of the glob from birth: reachable through the tailer if it held the original.
    if (!this.matches(target)) {
      copy.held = held;
      copy.leftAt = Date.now();
    }
    this.note(`  copy file#${copy.id} of file#${file.id}; original ${held ? 'held: its rest is drained from the copy' : 'not held'}`);
    if (held && this.run) {
      // logrotate runs at most once per interval: the agent took this copy over (or read all of it) before the next one replaces it.
      const run = this.run;
      const copyKey = this.key(copy);
      const unread = () => copy.lines.filter((l) => !this.emittedTexts().has(l.text)).map((l) => l.text.split(' ')[0]);
      await this.expect(
        () => `notice the copytruncate of file#${file.id} and drain its copy (unread: ${unread().join(', ')})`,
        () => unread().length === 0 || run.tailer.isFollowing(copyKey!),
      );
    }
  }

  async stop(crash: boolean): Promise<void> {
    const run = this.run;
    if (!run) return;
    await run.tailer.stop();
    this.counters.rotations += run.stats.counters.rotations ?? 0;
    this.counters.truncations += run.stats.counters.truncations ?? 0;
    if (!crash) await run.checkpoints.close();
    this.run = undefined;
    for (const file of this.files) file.held = false;
    if (crash) this.allowReplays();
  }

  /** After a crash: lines emitted past the last saved checkpoint of a file (or of its original) the next run finds again may come again. */
  private allowReplays(): void {
    let saved: Record<string, { offset: number }> = {};
    const path = join(this.state, 'checkpoints.json');
    if (existsSync(path)) saved = (JSON.parse(readFileSync(path, 'utf8')) as { files: typeof saved }).files;
    const emitted = this.emittedTexts();
    const again: string[] = [];
    for (const file of this.files) {
      if (file.path === undefined) continue;
      const key = this.key(file);
      let from = 0;
      if (key !== undefined) {
        const fingerprint = key.slice(key.lastIndexOf(':') + 1);
        const same = Object.entries(saved).filter(([k]) => k.endsWith(`:${fingerprint}`));
        from = saved[key]?.offset ?? (same.length > 0 ? Math.min(...same.map(([, v]) => v.offset)) : 0);
      }
      for (const line of file.lines) {
        if (line.offset >= from && emitted.has(line.text) && !line.dupOk) {
          line.dupOk = true;
          again.push(line.text);
        }
      }
    }
    this.note(`  crash: may come again: ${again.join(', ') || 'nothing'}`);
  }

  async start(): Promise<void> {
    if (this.run) return;
    const sink = new RecordingSink();
    this.sinks.push(sink);
    this.run = startTailer([join(this.logs, this.scenario.glob)], this.state, { ...SETTINGS, ...this.scenario.settings }, sink);
    await this.run.started;
  }

  /** Final settle, a clean stop, then every promise checked. */
  async finish(): Promise<void> {
    await this.start();
    this.unblock();
    await this.settle();
    await this.stop(false);
    this.check();
  }

  check(): void {
    const seen = new Map<string, number[]>(); // text → runs it arrived in
    this.sinks.forEach((sink, run) => {
      const lastIdx = new Map<string, number>();
      for (const e of sink.lines) {
        const line = this.lines.get(e.text);
        if (!line) this.fail(`emitted a line never written: ${JSON.stringify(e.text)} from ${e.path}`);
        if (e.lineOffset !== line.offset) this.fail(`${e.text} emitted with offset ${e.lineOffset}, written at ${line.offset}`);
        const last = lastIdx.get(line.gen);
        if (last !== undefined && line.idx <= last) {
          this.fail(`run ${run}: ${e.text} (#${line.idx} of its file) arrived after #${last} of the same file: ${line.idx === last ? 'twice' : 'out of order'}`);
        }
        lastIdx.set(line.gen, line.idx);
        const runs = seen.get(e.text) ?? [];
        runs.push(run);
        seen.set(e.text, runs);
      }
    });
    for (const [text, runs] of seen) {
      if (runs.length > 1 && !this.lines.get(text)!.dupOk) this.fail(`${text} arrived in runs ${runs.join(', ')}, with no crash past its checkpoint in between`);
    }
    const missing = this.missing();
    if (missing.length > 0) this.fail(`lines lost: ${missing.map((l) => l.text).join(', ')}`);
  }

  async dispose(): Promise<void> {
    await this.run?.tailer.stop().catch(() => undefined);
    this.run = undefined;
    for (let slot = 0; slot < this.nginx.length; slot++) this.nginxClose(slot);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the runs of one property exercised (printed as a test diagnostic: a model that tests nothing passes too). */
interface Tally {
  runs: number;
  ops: number;
  written: number;
  optional: number;
  emitted: number;
  replayed: number;
  rotations: number;
  truncations: number;
  restarts: number;
  crashes: number;
}

async function runScenario(scenario: Scenario, ops: Op[], tally: Tally): Promise<void> {
  const world = new World(scenario);
  try {
    await world.start();
    for (const op of ops) await world.apply(op);
    await world.finish();
    tally.runs++;
    tally.ops += ops.length;
    tally.written += world.allLines.length;
    tally.optional += world.allLines.filter((l) => !l.required).length;
    const emitted = world.sinks.reduce((n, s) => n + s.lines.length, 0);
    tally.emitted += emitted;
    tally.replayed += emitted - world.emittedTexts().size;
    tally.rotations += world.counters.rotations;
    tally.truncations += world.counters.truncations;
    tally.restarts += world.sinks.length - 1;
    tally.crashes += ops.filter((o) => o.op === 'restart' && o.crash).length;
  } finally {
    await world.dispose();
  }
}

function property(scenario: Scenario, numRuns: number, maxLength: number) {
  return async (t: { diagnostic(message: string): void }) => {
    const tally: Tally = { runs: 0, ops: 0, written: 0, optional: 0, emitted: 0, replayed: 0, rotations: 0, truncations: 0, restarts: 0, crashes: 0 };
    const seed = process.env.LOGSHIP_MODEL_SEED;
    const path = process.env.LOGSHIP_MODEL_PATH;
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(scenario.slots), { minLength: 3, maxLength, size: 'max' }), (ops) => runScenario(scenario, ops, tally)),
      {
        numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)),
        ...(seed !== undefined ? { seed: Number(seed) } : {}),
        ...(path !== undefined ? { path } : {}),
      },
    );
    t.diagnostic(Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', '));
  };
}

// ----------------------------------------------------------------- properties

test('model: one file (access.log), rotations, truncations, deletions, restarts and crashes', property({ name: 'single', slots: 1, live: () => 'access.log', glob: 'access.log' }, 40, 30));

test('model: several files under one glob (*.log)', property({ name: 'several', slots: 3, live: (slot) => `${'abc'[slot]}.log`, glob: '*.log' }, 30, 30));

test(
  'model: several files and their rotated copies, two descriptors (files closed and reopened by identity)',
  property({ name: 'few-descriptors', slots: 3, live: (slot) => `${'abc'[slot]}.log`, glob: '*.log*', settings: { max_open_files: 2 } }, 20, 30),
);

test('model: a glob that matches the rotated files too (access.log*)', property({ name: 'rotated-in-glob', slots: 1, live: () => 'access.log', glob: 'access.log*' }, 30, 30));

// Keeps the model honest: a hand-written sequence whose outcome is known.
test('model sanity: an unread line truncated away is lost, a held rotated file is drained', async () => {
  const scenario: Scenario = { name: 'sanity', slots: 1, live: () => 'access.log', glob: 'access.log' };
  const world = new World(scenario);
  try {
    await world.start();
    await world.apply({ op: 'write', slot: 0, n: 3 });
    await world.apply({ op: 'settle' });
    // L3, L4: written and truncated away while the agent is stopped.
    await world.apply({ op: 'restart', crash: false, down: [{ op: 'write', slot: 0, n: 2 }, { op: 'truncate', slot: 0, seen: false }] });
    await world.apply({ op: 'write', slot: 0, n: 2 }); // L5, L6
    await world.apply({ op: 'settle' });
    await world.apply({ op: 'rotate', slot: 0, late: 2, pause: false, seen: true }); // L7, L8 to the renamed file
    await world.finish();
    assert.deepEqual(
      world.allLines.filter((l) => !l.required).map((l) => l.text.split(' ')[0]),
      ['L3', 'L4'],
    );
    assert.deepEqual(world.sinks.flatMap((s) => s.texts()).map((t) => t.split(' ')[0]), ['L0', 'L1', 'L2', 'L5', 'L6', 'L7', 'L8']);
  } finally {
    await world.dispose();
  }
});
