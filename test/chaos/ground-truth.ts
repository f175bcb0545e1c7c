/**
 * The ground truth of a chaos run, and the count against it.
 *
 * nginx writes every request twice in the same format (LOG_FORMAT, combined
 * plus `$request_id`): to the access log that logrotate rotates and the
 * agent follows, and to a truth log nothing touches. `$request_id` is 32
 * random hex digits per request, so a line is known by it wherever it goes:
 * in the truth log (everything nginx wrote, in order), in the rotated files
 * at the end (where it lives on disk: which file, which line), and in Kafka
 * or the output it was pointed at (the parsed record's `request_id`, or the
 * raw line of a dead letter), read back with a client independent of the
 * agent's (kcat; for RabbitMQ and Redis, outputs.ts).
 *
 * copytruncate loses from disk the lines nginx writes between logrotate's
 * copy and its truncation (logrotate(8): "some logging data might be
 * lost"); the truth log still has them. They are counted apart: an agent
 * cannot promise lines that exist on disk only for milliseconds.
 */
import { spawn } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** nginx's combined format plus `$request_id`: the agent parses the real thing, the harness reads the id at the end. */
export const LOG_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_id';

/** `$request_id` of a line in LOG_FORMAT: its last field. */
export function requestIdOfLine(line: string): string {
  return line.slice(line.lastIndexOf(' ') + 1);
}

async function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) if (line) onLine(line);
}

/** Every request nginx logged, in order (the truth log). */
export async function readWritten(truthLog: string): Promise<string[]> {
  const ids: string[] = [];
  await eachLine(createReadStream(truthLog), (line) => ids.push(requestIdOfLine(line)));
  return ids;
}

export interface Location {
  file: string;
  /** 1-based line number in that file. */
  line: number;
}

export interface OnDisk {
  where: Map<string, Location>;
  files: { file: string; lines: number }[];
}

/**
 * Where each line is on disk at the end: the files of the rotation set
 * (`isLogFile` picks them in `logDir`), oldest rotation first.
 */
export async function readOnDisk(logDir: string, isLogFile: (name: string) => boolean): Promise<OnDisk> {
  const generation = (name: string) => Number(/\.(\d+)$/.exec(name)?.[1] ?? 0);
  const names = readdirSync(logDir)
    .filter(isLogFile)
    .sort((a, b) => generation(b) - generation(a));
  const where = new Map<string, Location>();
  const files: OnDisk['files'] = [];
  for (const file of names) {
    let line = 0;
    await eachLine(createReadStream(join(logDir, file)), (text) => where.set(requestIdOfLine(text), { file, line: ++line }));
    files.push({ file, lines: line });
  }
  return { where, files };
}

/** A copy of a line in Kafka beyond the first. */
export interface ExtraCopy {
  id: string;
  /** The logship-id header: the same as the first copy's for a re-send, another for the same line read again (another file or offset). */
  logshipId: string;
  sameLogshipId: boolean;
  /** The message's timestamp (ms): when the agent sent it, to tell which agent process did. */
  timestamp: number;
}

export interface Delivered {
  messages: number;
  /** Request id → logship-id of its first copy. */
  first: Map<string, string>;
  extra: ExtraCopy[];
  /** Messages with no request_id in them (should not exist). */
  withoutId: number;
}

/** kcat output: one message per line (the values are JSON, never multi-line); `-f` fields separated by tabs. */
function kcat(brokers: string[], topic: string, format: string): NodeJS.ReadableStream & { done: Promise<void> } {
  const child = spawn('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited with ${code} reading ${topic}: ${stderr}`))));
  });
  done.catch(() => undefined); // awaited by the reader
  return Object.assign(child.stdout, { done });
}

const REQUEST_ID = /"request_id":"([^"]*)"/;
const LOGSHIP_ID = /(?:^|,)logship-id=([^,]*)/;

/** An empty tally of delivered messages, filled by addDelivered. */
export function newDelivered(): Delivered {
  return { messages: 0, first: new Map(), extra: [], withoutId: 0 };
}

/** One message read back from the output: its record JSON, its logship-id, when it was sent (ms; NaN when the output does not say). */
export function addDelivered(result: Delivered, value: string, logshipId: string, timestamp: number): void {
  result.messages++;
  const id = REQUEST_ID.exec(value)?.[1];
  if (!id) {
    result.withoutId++;
    return;
  }
  const first = result.first.get(id);
  if (first === undefined) result.first.set(id, logshipId);
  else result.extra.push({ id, logshipId, sameLogshipId: logshipId === first, timestamp });
}

/** Every message of the agent's topic, by request id (kcat from the beginning to the current end). */
export async function readDelivered(brokers: string[], topic: string): Promise<Delivered> {
  const out = kcat(brokers, topic, '%T\t%h\t%s\n');
  const result = newDelivered();
  await eachLine(out, (line) => {
    const [timestamp, headers, value] = line.split('\t', 3) as [string, string, string];
    addDelivered(result, value, LOGSHIP_ID.exec(headers)?.[1] ?? '', Number(timestamp));
  });
  await out.done;
  return result;
}

export interface DeadLetter {
  /** The request id at the end of the raw line, when the line has one. */
  id: string | undefined;
  reason: string;
  raw: string;
  path: string | undefined;
}

/** A dead letter's record JSON (`_raw`, `_error`, `source.path`); `reason` when the output carries it beside the record. */
export function deadLetterOf(value: string, reason?: string): DeadLetter {
  let parsed: { _raw?: string; _error?: string; source?: { path?: string } } = {};
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    // not JSON: counted with the line itself as its raw text
  }
  const raw = parsed._raw ?? value;
  const last = requestIdOfLine(raw);
  return { id: /^[0-9a-f]{32}$/.test(last) ? last : undefined, reason: parsed._error ?? reason ?? '(no reason)', raw, path: parsed.source?.path };
}

/** The dead-letter topic: the raw line and the parser's reason of each. */
export async function readDeadLetters(brokers: string[], topic: string): Promise<DeadLetter[]> {
  const out = kcat(brokers, topic, '%s\n');
  const letters: DeadLetter[] = [];
  await eachLine(out, (line) => letters.push(deadLetterOf(line)));
  await out.done;
  return letters;
}

export interface LostInFile {
  file: string;
  lines: number;
  lost: number;
  /** The first and last lost line numbers in the file. */
  firstLost: number;
  lastLost: number;
}

export interface Counts {
  /** Lines nginx wrote (truth log). */
  written: number;
  /** Of them, on disk in the rotation set at the end. */
  onDisk: number;
  /** Written but on disk nowhere: copytruncate's copy-to-truncate windows. */
  notOnDisk: number;
  notOnDiskDelivered: number;
  messages: number;
  deliveredDistinct: number;
  /** On disk, never delivered. */
  lost: number;
  lostByFile: LostInFile[];
  lostSamples: ({ id: string } & Location)[];
  /** Messages beyond the first for a line. */
  duplicates: number;
  /** ... of which carry the first copy's logship-id (the same line from the same file and offset, sent again). */
  resent: number;
  /** ... of which carry another logship-id (the same line read again, from another file or another offset). */
  reread: number;
  duplicateSamples: ({ id: string; logshipIds: string } & Partial<Location>)[];
  /** Messages with a request id nginx never wrote, or none. */
  unexpected: number;
  deadLetters: number;
  deadLetterSamples: (DeadLetter & Partial<Location>)[];
}

const SAMPLES = 8;

export function count(written: string[], onDisk: OnDisk, delivered: Delivered, dead: DeadLetter[]): Counts {
  const writtenSet = new Set(written);
  let notOnDisk = 0;
  let notOnDiskDelivered = 0;
  const lostSamples: Counts['lostSamples'] = [];
  const byFile = new Map<string, LostInFile>(onDisk.files.map((f) => [f.file, { file: f.file, lines: f.lines, lost: 0, firstLost: 0, lastLost: 0 }]));
  let lost = 0;
  for (const id of written) {
    const at = onDisk.where.get(id);
    const shipped = delivered.first.has(id);
    if (!at) {
      notOnDisk++;
      if (shipped) notOnDiskDelivered++;
      continue;
    }
    if (shipped) continue;
    lost++;
    if (lostSamples.length < SAMPLES) lostSamples.push({ id, ...at });
    const f = byFile.get(at.file)!;
    if (f.lost++ === 0) f.firstLost = at.line;
    f.lastLost = at.line;
  }
  let unexpected = delivered.withoutId;
  let deliveredDistinct = 0;
  for (const id of delivered.first.keys()) {
    if (writtenSet.has(id)) deliveredDistinct++;
    else unexpected++;
  }
  const extra = delivered.extra.filter((c) => writtenSet.has(c.id));
  const samples = new Map<string, Set<string>>();
  for (const c of extra) {
    if (samples.size >= SAMPLES && !samples.has(c.id)) continue;
    const ids = samples.get(c.id) ?? new Set([delivered.first.get(c.id)!]);
    samples.set(c.id, ids.add(c.logshipId));
  }
  return {
    written: written.length,
    onDisk: written.length - notOnDisk,
    notOnDisk,
    notOnDiskDelivered,
    messages: delivered.messages,
    deliveredDistinct,
    lost,
    lostByFile: [...byFile.values()].filter((f) => f.lost > 0),
    lostSamples,
    duplicates: extra.length,
    resent: extra.filter((c) => c.sameLogshipId).length,
    reread: extra.filter((c) => !c.sameLogshipId).length,
    duplicateSamples: [...samples].map(([id, ids]) => ({ id, logshipIds: [...ids].join(' '), ...onDisk.where.get(id) })),
    unexpected: unexpected + delivered.extra.length - extra.length,
    deadLetters: dead.length,
    deadLetterSamples: dead.slice(0, SAMPLES).map((d) => ({ ...d, raw: d.raw.length > 160 ? `${d.raw.slice(0, 160)}...` : d.raw, ...(d.id ? onDisk.where.get(d.id) : undefined) })),
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** One sentence for an assertion message: how many lines were lost, and where they are on disk. */
export function describeLost(c: Counts): string {
  if (c.lost === 0) return `no line lost (${n(c.onDisk)} on disk)`;
  const files = c.lostByFile.map((f) => `${f.file}: ${n(f.lost)} of its ${n(f.lines)} lines (lines ${n(f.firstLost)}-${n(f.lastLost)})`).join('; ');
  const samples = c.lostSamples.slice(0, 3).map((s) => `${s.id} (${s.file}:${s.line})`).join(', ');
  return `${n(c.lost)} of ${n(c.onDisk)} lines on disk never reached the output: ${files}; e.g. request_id ${samples}`;
}

/** One sentence for an assertion message: how many duplicates, of which kind, and some of them. */
export function describeDuplicates(c: Counts): string {
  if (c.duplicates === 0) return 'no duplicates';
  const samples = c.duplicateSamples.slice(0, 3).map((s) => `${s.id} (${s.file ?? '?'}:${s.line ?? '?'}, logship-ids ${s.logshipIds})`).join(', ');
  return `${n(c.duplicates)} duplicates (${n(c.resent)} re-sent with the same logship-id, ${n(c.reread)} read again from another file or offset); e.g. ${samples}`;
}

/** One sentence for an assertion message: the dead letters and why. */
export function describeDeadLetters(c: Counts): string {
  if (c.deadLetters === 0) return 'no dead letters';
  const samples = c.deadLetterSamples.slice(0, 3).map((d) => `${d.reason} (${d.file ?? 'not on disk'}:${d.line ?? '?'}): ${JSON.stringify(d.raw.slice(0, 80))}`).join('; ');
  return `${n(c.deadLetters)} lines went to the dead-letter destination; e.g. ${samples}`;
}
