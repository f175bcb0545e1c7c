/**
 * `logship checkpoints list|forget|set`: what the agent knows of each file
 * (`<state_dir>/checkpoints.json`), and a safe way to change it.
 *
 *   list    per file: identity, input, path last seen, offset, size on disk
 *           and lag when the file is still at that path, when lines were
 *           last acknowledged. A table; --json for machines. Read-only,
 *           safe while the agent runs.
 *   forget  removes one file's checkpoint: the next start reads it as a
 *           file it never saw (start_at).
 *   set     moves one file's checkpoint to --offset: not past the file's
 *           end, and where a line starts (else the next start would ship
 *           half a line).
 *
 * forget and set take the state_dir lock (state-dir-lock.ts) while they
 * edit: refused (exit 2) while an agent runs on that state_dir, whose
 * next save would overwrite the edit anyway.
 */
import { open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import bytes from 'bytes-iec';
import Table from 'cli-table3';
import ms from 'ms';
import type { Argv, CommandModule } from 'yargs';
import { writeFileAtomic } from '../checkpoint/atomic-write.ts';
import { CheckpointFormatError, formatCheckpoints, parseCheckpoints, type FileCheckpoint } from '../checkpoint/checkpoint-file.ts';
import { lockStateDir, StateDirLockedError } from '../checkpoint/state-dir-lock.ts';
import type { PidLock } from '../lockfile/pid-lock.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';
import { readFingerprint } from '../tail/fingerprint.ts';
import { fingerprintOfKey, sameInode } from '../tail/identity.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface StateArgs {
  config?: string;
  'state-dir'?: string;
}

interface ListArgs extends StateArgs {
  json?: boolean;
}

interface FileArgs extends StateArgs {
  file: string;
}

interface SetArgs extends FileArgs {
  offset: number;
}

const DEFAULT_STATE_DIR = (configSchema.properties.state_dir as { default: string }).default;
const DEFAULT_FINGERPRINT_BYTES = 256;

function fail(message: string, code: number): never {
  process.stderr.write(`logship: ${message}\n`);
  process.exit(code);
}

/** The state_dir to look at, and each input's fingerprint_bytes (to tell whether a file on disk is still the one checkpointed). */
function stateOf(argv: StateArgs): { stateDir: string; fingerprintBytes: (input: string | undefined) => number } {
  if (!argv.config) return { stateDir: argv['state-dir'] ?? DEFAULT_STATE_DIR, fingerprintBytes: () => DEFAULT_FINGERPRINT_BYTES };
  try {
    const config = loadConfig(argv.config, { state_dir: argv['state-dir'] });
    const bytesOf = new Map(config.inputs.map((i) => [i.name, i.fingerprint_bytes]));
    return { stateDir: config.state_dir, fingerprintBytes: (input) => (input && bytesOf.get(input)) || DEFAULT_FINGERPRINT_BYTES };
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_CONFIG);
    throw err;
  }
}

async function readEntries(stateDir: string): Promise<{ file: string; entries: Map<string, FileCheckpoint> }> {
  const file = join(stateDir, 'checkpoints.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, entries: new Map() };
    fail(`cannot read ${file}: ${(err as Error).message}${code === 'EACCES' ? ' (run as the agent user or root)' : ''}`, EXIT_FAILURE);
  }
  try {
    return { file, entries: parseCheckpoints(text) };
  } catch (err) {
    fail(`${file}: ${err instanceof CheckpointFormatError ? err.message : `not a checkpoint file (${(err as Error).message})`}`, EXIT_CONFIG);
  }
}

type OnDisk = { state: 'present'; size: number } | { state: 'gone' | 'other file' | 'rewritten' | 'unreadable'; detail?: string };

/** Whether the file checkpointed is still at the path it was last seen at (same inode and first line), and its size now. */
async function onDisk(key: string, entry: FileCheckpoint, fingerprintBytes: number): Promise<OnDisk> {
  let handle;
  try {
    handle = await open(entry.path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { state: 'gone' } : { state: 'unreadable', detail: code };
  }
  try {
    const stats = await handle.stat();
    if (!sameInode(key, stats)) return { state: 'other file' };
    if ((await readFingerprint(handle, fingerprintBytes)) !== fingerprintOfKey(key)) return { state: 'rewritten' };
    return { state: 'present', size: stats.size };
  } finally {
    await handle.close();
  }
}

interface Row {
  id: string;
  fingerprint: string;
  input: string | null;
  path: string;
  offset: number;
  /** Size on disk now, when the file is still at its path (the table shows sizes in KiB/MiB, the offset exact: what `set` takes). */
  size: number | null;
  lag: number | null;
  /** present | gone | other file | rewritten | unreadable. */
  file: string;
  acked_at: string | null;
}

async function rowsOf(entries: Map<string, FileCheckpoint>, fingerprintBytes: (input: string | undefined) => number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [key, entry] of entries) {
    const disk = await onDisk(key, entry, fingerprintBytes(entry.input));
    const size = disk.state === 'present' ? disk.size : null;
    rows.push({
      id: entry.id ?? key,
      fingerprint: fingerprintOfKey(key),
      input: entry.input ?? null,
      path: entry.path,
      offset: entry.offset,
      size,
      lag: size === null ? null : Math.max(0, size - entry.offset),
      file: disk.state === 'unreadable' ? `unreadable (${disk.detail})` : disk.state,
      acked_at: entry.acked_at_ms === undefined ? null : new Date(entry.acked_at_ms).toISOString(),
    });
  }
  return rows.sort((a, b) => a.path.localeCompare(b.path));
}

const size = (n: number | null): string => (n === null ? '-' : (bytes.format(n, { mode: 'binary', unitSeparator: ' ' }) ?? String(n)));

function table(rows: Row[], now: number, tty: boolean): string {
  const t = new Table({
    head: ['ID', 'INPUT', 'PATH', 'OFFSET', 'SIZE', 'LAG', 'FILE', 'LAST ACK'],
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'left'],
    // Colours only for a person; piped output stays plain text.
    style: tty ? {} : { head: [], border: [] },
  });
  for (const r of rows) {
    const ack = r.acked_at === null ? '-' : `${ms(Math.max(0, now - Date.parse(r.acked_at)))} ago`;
    t.push([r.id, r.input ?? '-', r.path, r.offset, size(r.size), size(r.lag), r.file, ack]);
  }
  return t.toString();
}

/** The key of the one entry `file` names: its id, its key, or the path it was last seen at. */
function keyOf(entries: Map<string, FileCheckpoint>, file: string): string {
  if (entries.has(file)) return file;
  const byId = [...entries].filter(([, e]) => e.id === file).map(([k]) => k);
  const path = resolve(file);
  const byPath = [...entries].filter(([, e]) => e.path === path).map(([k]) => k);
  const found = [...new Set([...byId, ...byPath])];
  if (found.length === 1) return found[0]!;
  if (found.length === 0) fail(`no checkpoint for ${file} (give a path as \`logship checkpoints list\` shows it, or an ID)`, EXIT_CONFIG);
  fail(`${found.length} checkpoints were last seen at ${file} (rotated files): give one ID: ${found.join(', ')}`, EXIT_CONFIG);
}

/** Runs `edit` with the state_dir lock held: refused while an agent runs on it. */
async function whileLocked(stateDir: string, command: string, edit: () => Promise<void>): Promise<void> {
  let lock: PidLock;
  try {
    lock = lockStateDir(stateDir, command).lock;
  } catch (err) {
    if (err instanceof StateDirLockedError) fail(`${err.message} (checkpoints change only while no agent runs on it)`, EXIT_CONFIG);
    const code = (err as NodeJS.ErrnoException).code;
    fail(`cannot lock state_dir ${stateDir}: ${(err as Error).message}${code === 'EACCES' ? ' (run as the agent user or root)' : ''}`, code === 'ENOENT' ? EXIT_CONFIG : EXIT_FAILURE);
  }
  process.once('exit', () => lock.release());
  try {
    await edit();
  } finally {
    lock.release();
  }
}

/** Why `offset` is not a place to resume `path` from, or undefined when it is (within the file, where a line starts). */
async function offsetProblem(path: string, offset: number, fileSize: number): Promise<string | undefined> {
  if (offset > fileSize) return `offset ${offset} is past the end of ${path} (${fileSize} bytes)`;
  if (offset === 0 || offset === fileSize) return undefined;
  const handle = await open(path, 'r');
  try {
    // Where the lines around `offset` start, within 64 KiB either way.
    const from = Math.max(0, offset - 65536);
    const buf = Buffer.alloc(Math.min(fileSize, offset + 65536) - from);
    const { bytesRead } = await handle.read(buf, 0, buf.length, from);
    const at = offset - from;
    if (buf[at - 1] === 0x0a) return undefined;
    const before = buf.subarray(0, at).lastIndexOf(0x0a);
    const after = buf.subarray(0, bytesRead).indexOf(0x0a, at);
    const starts = [before === -1 ? (from === 0 ? 0 : undefined) : from + before + 1, after === -1 ? undefined : from + after + 1].filter((n) => n !== undefined);
    return `offset ${offset} is inside a line of ${path}, which would be shipped cut${starts.length ? `: the nearest lines start at ${starts.join(' and ')}` : ''}`;
  } finally {
    await handle.close();
  }
}

const stateOptions = <T>(y: Argv<T>) =>
  y
    .option('state-dir', { type: 'string', describe: `The agent's state_dir (default ${DEFAULT_STATE_DIR}, or the one --config names)` })
    .option('config', { alias: 'c', type: 'string', describe: 'Read state_dir (and fingerprint_bytes) from this configuration' });

const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'Show every file the agent has a checkpoint for: offset, size and lag, last acknowledgement',
  builder: (y) => stateOptions(y).option('json', { type: 'boolean', describe: 'One JSON array, for machines' }),
  handler: async (argv) => {
    const { stateDir, fingerprintBytes } = stateOf(argv);
    const { file, entries } = await readEntries(stateDir);
    const rows = await rowsOf(entries, fingerprintBytes);
    if (argv.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (rows.length === 0) process.stdout.write(`no checkpoints in ${file}\n`);
    else process.stdout.write(`${table(rows, Date.now(), process.stdout.isTTY === true)}\n`);
    process.exit(EXIT_OK);
  },
};

const forgetCommand: CommandModule<object, FileArgs> = {
  command: 'forget <file>',
  describe: "Remove a file's checkpoint (by path or ID): the next start reads it as a new file (start_at)",
  builder: (y) => stateOptions(y).positional('file', { type: 'string', demandOption: true, describe: 'Path last seen (as list shows it) or ID' }),
  handler: async (argv) => {
    const { stateDir } = stateOf(argv);
    await whileLocked(stateDir, 'checkpoints forget', async () => {
      const { file, entries } = await readEntries(stateDir);
      const key = keyOf(entries, argv.file);
      const entry = entries.get(key)!;
      entries.delete(key);
      await writeFileAtomic(file, formatCheckpoints(entries));
      process.stdout.write(`forgot ${entry.path} (ID ${key}, was at offset ${entry.offset})\n`);
    });
    process.exit(EXIT_OK);
  },
};

const setCommand: CommandModule<object, SetArgs> = {
  command: 'set <file>',
  describe: "Move a file's checkpoint (by path or ID) to --offset: within the file, where a line starts",
  builder: (y) =>
    stateOptions(y)
      .positional('file', { type: 'string', demandOption: true, describe: 'Path last seen (as list shows it) or ID' })
      .option('offset', { type: 'number', demandOption: true, describe: 'Byte offset the next start reads from (0: the whole file again)' })
      .check((argv) => {
        if (!Number.isSafeInteger(argv.offset) || argv.offset < 0) throw new Error(`--offset must be a whole number of bytes, 0 or more (got ${String(argv.offset)})`);
        return true;
      }),
  handler: async (argv) => {
    const { stateDir, fingerprintBytes } = stateOf(argv);
    await whileLocked(stateDir, 'checkpoints set', async () => {
      const { file, entries } = await readEntries(stateDir);
      const key = keyOf(entries, argv.file);
      const entry = entries.get(key)!;
      const disk = await onDisk(key, entry, fingerprintBytes(entry.input));
      if (disk.state !== 'present') {
        fail(`${entry.path} is not the file of this checkpoint any more (${disk.state}): its offset cannot be checked against it; forget it instead, or give the ID of a file that is there`, EXIT_CONFIG);
      }
      const problem = await offsetProblem(entry.path, argv.offset, disk.size);
      if (problem) fail(problem, EXIT_CONFIG);
      entries.set(key, { ...entry, offset: argv.offset, size: disk.size });
      await writeFileAtomic(file, formatCheckpoints(entries));
      process.stdout.write(`${entry.path}: offset ${entry.offset} -> ${argv.offset} (${size(disk.size - argv.offset)} to read at the next start)\n`);
    });
    process.exit(EXIT_OK);
  },
};

export const checkpointsCommand: CommandModule = {
  command: 'checkpoints',
  describe: "List a state_dir's checkpoints, or forget or move one while no agent runs",
  builder: (y: Argv) => y.command(listCommand).command(forgetCommand).command(setCommand).demandCommand(1, 'give a checkpoints command: list, forget or set'),
  handler: () => undefined,
};
