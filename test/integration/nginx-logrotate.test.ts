/**
 * A real nginx under wrk load, a real logrotate, a real Kafka: every request
 * nginx logged arrives in Kafka, counted against nginx's own total.
 *
 * Ground truth. nginx writes every request to two access logs in the same
 * format: `logs/access.log`, which logrotate rotates and the agent follows,
 * and `truth.log`, which nothing touches — nginx's own line-by-line record,
 * in order, of what it logged. Its line count is checked against nginx's
 * counter (stub_status `requests`, minus our own status queries, which
 * `access_log off` keeps out of the logs). Each request is unique
 * (`GET /?r=<thread>-<n>`, from a wrk script), so every line can be matched
 * to its Kafka record by `$request`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { AgentProcess, tempDir, writeConfig, type LogLine } from '../support/agent.ts';
import { createTopic, readTopic, testBrokers, topicSize } from '../support/kafka.ts';
import { Logrotate, Nginx, requireTool, Wrk, writeUniqueRequestScript, type RotateMode } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);

/** wrk: 1 thread, 8 connections, 4 s, each connection at most 500 requests/s: ~10-15k requests. */
const LOAD = { threads: 1, connections: 8, durationSeconds: 4, delayMs: 2 };
/** Rotations during the load, each once the live file has grown by this much (~1,800 lines). */
const ROTATIONS = 3;
const ROTATE_AT_BYTES = 160 * 1024;
/** The agent has shipped all it will once Kafka holds what is expected, or holds still this long. */
const SETTLE_MS = 5_000;
const TEST_TIMEOUT_MS = 90_000;

interface Scenario {
  dir: string;
  logDir: string;
  accessLog: string;
  truthLog: string;
  topic: string;
  deadTopic: string;
  nginx: Nginx;
  agent: AgentProcess;
  logrotate: Logrotate;
}

async function startScenario(t: TestContext, mode: RotateMode): Promise<Scenario> {
  await Promise.all([requireTool('nginx', '-v'), requireTool('wrk', '-v'), requireTool('logrotate', '--version'), requireTool('kcat', '-V')]);
  const dir = tempDir(t, 'logship-nginx-');
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const accessLog = join(logDir, 'access.log');
  const truthLog = join(dir, 'truth.log');
  const [topic, deadTopic] = await Promise.all([createTopic(`nginx-${mode}`), createTopic(`nginx-${mode}-dead`)]);

  const nginx = await Nginx.start(t, join(dir, 'nginx'), { accessLog, truthLog, logFormat: 'combined' });
  const config = writeConfig(dir, {
    inputs: [{ paths: [accessLog], format: 'combined', poll_interval_ms: 50, scan_interval_ms: 200, rotate_wait_ms: 500 }],
    kafka: { brokers: testBrokers(), topic, dead_letter_topic: deadTopic },
    batch: { max_records: 1000, linger_ms: 50 },
    state_dir: join(dir, 'state'),
    log_level: 'info',
  });
  const agent = new AgentProcess(['run', '--config', config]);
  t.after(() => agent.stop('SIGKILL'));
  await agent.waitForLog('following file', (l) => l.path === accessLog);
  return { dir, logDir, accessLog, truthLog, topic, deadTopic, nginx, agent, logrotate: new Logrotate(dir, accessLog, mode, nginx) };
}

/** Runs the load and rotates the live log `ROTATIONS` times while it runs; returns nginx's total. */
async function loadAndRotate(t: TestContext, s: Scenario): Promise<{ total: number; truth: string[]; wrkRequests: number }> {
  const script = writeUniqueRequestScript(join(s.dir, 'unique.lua'), LOAD.delayMs);
  const wrk = new Wrk(t, s.nginx.url('/'), { ...LOAD, script });
  try {
    for (let i = 0; i < ROTATIONS; i++) {
      await waitFor(`${s.accessLog} to grow to ${ROTATE_AT_BYTES} bytes`, () => statSync(s.accessLog).size >= ROTATE_AT_BYTES || !wrk.running, 10_000, 20);
      assert.ok(wrk.running, `the load ended before rotation ${i + 1}: the machine is too slow for ROTATE_AT_BYTES`);
      await s.logrotate.rotate();
    }
    assert.ok(wrk.running, 'rotations must happen during the load');
  } finally {
    // The load is bounded (-d); wait for it in any case so no wrk outlives the test.
    await wrk.done.catch(() => undefined);
  }
  const { requests: wrkRequests } = await wrk.done;
  const total = await s.nginx.loggedRequests();
  const truth = lines(s.truthLog);
  assert.equal(truth.length, total, "harness: truth.log holds every request nginx counted (stub_status)");
  return { total, truth, wrkRequests };
}

function lines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return text.split('\n').slice(0, -1);
}

/** `$request` of a combined line: its first quoted field. */
function requestOf(line: string): string {
  const m = /"([^"]*)"/.exec(line);
  if (!m) throw new Error(`not a combined line: ${line}`);
  return m[1]!;
}

/** The live log and its rotated copies, oldest first (access.log.N ... access.log.1, access.log). */
function rotatedSet(logDir: string): string[] {
  const names = readdirSync(logDir).filter((n) => /^access\.log(\.\d+)?$/.test(n));
  const generation = (n: string) => (n === 'access.log' ? 0 : Number(n.slice('access.log.'.length)));
  return names.sort((a, b) => generation(b) - generation(a)).map((n) => join(logDir, n));
}

/** The request of the last message in the topic (kcat, an independent client). */
async function lastRequestInTopic(topic: string): Promise<string | undefined> {
  const { stdout } = await run('kcat', ['-C', '-b', testBrokers().join(','), '-t', topic, '-o', '-1', '-c', '1', '-e', '-q']);
  const value = stdout.trim();
  return value ? (JSON.parse(value) as { request?: string }).request : undefined;
}

/**
 * Waits until `done` says Kafka holds all that is expected, or until the
 * topic has not grown for SETTLE_MS (the agent shipped all it ever will):
 * either way the assertions that follow report exact figures.
 */
async function settle(topic: string, done: (size: number) => Promise<boolean>): Promise<number> {
  let last = -1;
  let since = Date.now();
  return waitFor(
    `${topic} to settle`,
    async () => {
      const size = await topicSize(topic);
      if (size !== last) {
        last = size;
        since = Date.now();
      }
      return (await done(size)) || Date.now() - since >= SETTLE_MS ? { size } : undefined;
    },
    60_000,
    200,
  ).then((r) => r.size);
}

interface Shipped {
  requests: string[];
  ids: string[];
}

async function shipped(topic: string): Promise<Shipped> {
  const messages = await readTopic(topic);
  return {
    requests: messages.map((m) => (JSON.parse(m.value) as { request: string }).request),
    ids: messages.map((m) => m.headers['logship-id'] ?? '(no logship-id header)'),
  };
}

/** The agent's log lines about files: what it saw of the rotations. */
function fileEvents(agent: AgentProcess): LogLine[] {
  return agent.logs.filter((l) => /following file|file renamed|file rotated|file deleted|released file|file truncated|truncat|reopen|closed/.test(l.msg));
}

function report(t: TestContext, s: Scenario, figures: Record<string, unknown>): void {
  t.diagnostic(JSON.stringify(figures));
  for (const l of fileEvents(s.agent)) {
    const { msg, path, key, offset, size, from, to } = l;
    t.diagnostic(`agent: ${msg} ${JSON.stringify({ path, key, offset, size, from, to })}`);
  }
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const v of values) (seen.has(v) ? dups : seen).add(v);
  return [...dups];
}

test(
  'logrotate create + USR1 under wrk load: every request nginx logged is in Kafka exactly once',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const s = await startScenario(t, 'create');
    const { total, truth, wrkRequests } = await loadAndRotate(t, s);

    // rename + create + reopen loses nothing on disk: the rotated set holds every line.
    const files = rotatedSet(s.logDir);
    const onDisk = files.flatMap(lines);
    assert.equal(files.length, ROTATIONS + 1, `rotated set: ${files.join(', ')}`);
    assert.equal(onDisk.length, total, 'harness: the rotated files together hold every request');

    await settle(s.topic, async (size) => size >= total);
    // Each rotated-away file is read to its end, then released (its descriptor closed) after rotate_wait_ms.
    const released = await waitFor(
      `the agent to release the ${ROTATIONS} rotated-away files`,
      () => {
        const n = s.agent.logs.filter((l) => l.msg === 'released file').length;
        return n >= ROTATIONS ? n : undefined;
      },
      5_000,
    ).catch((err: Error) => err);
    const { code } = await s.agent.stop('SIGTERM');
    const got = await shipped(s.topic);
    const dead = await topicSize(s.deadTopic);

    const truthRequests = truth.map(requestOf);
    const inKafka = new Set(got.requests);
    const missing = truthRequests.filter((r) => !inKafka.has(r));
    const truthSet = new Set(truthRequests);
    const unexpected = got.requests.filter((r) => !truthSet.has(r));
    const dupRequests = duplicates(got.requests);
    const dupIds = duplicates(got.ids);
    report(t, s, {
      nginx_total: total,
      wrk_responses: wrkRequests,
      rotations: s.logrotate.rotations,
      lines_per_file: Object.fromEntries(files.map((f) => [f.slice(s.logDir.length + 1), lines(f).length])),
      kafka: got.requests.length,
      dead_letter: dead,
      missing: missing.length,
      duplicated_requests: dupRequests.length,
      duplicated_ids: dupIds.length,
      first_missing: missing.slice(0, 5),
    });

    assert.equal(code, 0, `agent exit code (stderr: ${s.agent.stderr.slice(-1000)})`);
    assert.equal(dead, 0, 'no line went to the dead-letter topic');
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${total} requests nginx logged are not in Kafka`);
    assert.deepEqual(unexpected.slice(0, 20), [], 'Kafka holds only requests nginx logged');
    assert.deepEqual(dupRequests.slice(0, 20), [], `${dupRequests.length} requests arrived more than once`);
    assert.equal(got.requests.length, total, "Kafka holds exactly nginx's total");
    assert.deepEqual(dupIds.slice(0, 20), [], `${dupIds.length} logship-id values are shared by different messages`);
    assert.equal(new Set(got.ids).size, total, 'one distinct logship-id per request');
    assert.ok(typeof released === 'number', String(released));
  },
);

/*
 * copytruncate: what is and is not guaranteed.
 *
 * logrotate copies access.log to access.log.1, then truncates access.log to
 * 0 while nginx keeps appending to the same descriptor (O_APPEND: the next
 * write lands at the new end, offset 0). The live file goes through
 * "cycles": cycle i is everything written to it between truncation i-1 and
 * truncation i, which is copy i (access.log.<n>) followed by the lines
 * written between the copy and the truncation ("the window"). The window is
 * in neither the copy nor the live file: copytruncate itself loses it from
 * disk (logrotate(8): "some logging data might be lost"); truth.log still
 * has it, so it is identified exactly.
 *
 * The agent follows the live path (the copies do not match its paths).
 * Within a cycle it reads lines in order until it notices the truncation;
 * what it had not read by then is drained from the copy (found beside the
 * file, named after it, with the same first line), from the offset where
 * reading stopped. So from cycle i it ships every line of the copy, plus the
 * window lines it happened to read from the live file before they were
 * truncated away: a prefix of the cycle that covers at least the copy.
 *
 * Asserted (guaranteed): every line on disk (copies and live file) in Kafka,
 * so only copytruncate's own window is lost; nothing shipped twice, nothing invented, nothing
 * dead-lettered (no line read from the middle, as a missed truncation would
 * cause); from every cycle a prefix in order (a gap followed by shipped lines
 * would mean the agent skipped new content after a truncation); the last
 * cycle — the live file at the end, which nobody truncates — whole; and a
 * distinct logship-id per message (the same file and offsets are reused after
 * each truncation, so an id of file identity + offset alone would collide and
 * make a consumer's de-duplication drop real lines).
 */
test(
  'logrotate copytruncate under wrk load: every line on disk arrives (only the copy-to-truncate window is lost), nothing twice',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const s = await startScenario(t, 'copytruncate');
    const { total, truth, wrkRequests } = await loadAndRotate(t, s);

    const truthRequests = truth.map(requestOf);
    const index = new Map(truthRequests.map((r, i) => [r, i]));
    assert.equal(index.size, total, 'harness: every request is unique');

    // The cycles, from the copies (oldest first) and the live file; each is a contiguous run of truth.log.
    const files = rotatedSet(s.logDir);
    assert.equal(files.length, ROTATIONS + 1, `rotated set: ${files.join(', ')}`);
    const runs = files.map((file) => {
      const idx = lines(file).map((l) => index.get(requestOf(l)) ?? -1);
      assert.ok(idx.length > 0, `harness: ${file} is not empty`);
      idx.forEach((v, k) => assert.equal(v, idx[0]! + k, `harness: ${file} is a contiguous run of truth.log (line ${k})`));
      return { file, first: idx[0]!, end: idx[0]! + idx.length };
    });
    assert.equal(runs[0]!.first, 0, 'harness: the oldest copy starts with the first request');
    const lastRun = runs[runs.length - 1]!;
    assert.equal(lastRun.end, total, 'harness: the live file ends with the last request');
    const cycles = runs.map((r, i) => ({
      file: r.file,
      start: r.first,
      onDiskEnd: r.end,
      end: i + 1 < runs.length ? runs[i + 1]!.first : total,
    }));

    const lastRequest = truthRequests[total - 1]!;
    await settle(s.topic, async () => (await lastRequestInTopic(s.topic)) === lastRequest);
    const { code } = await s.agent.stop('SIGTERM');
    const got = await shipped(s.topic);
    const dead = await topicSize(s.deadTopic);

    const shippedIdx = new Set(got.requests.map((r) => index.get(r) ?? -1));
    const unexpected = got.requests.filter((r) => !index.has(r));
    const dupRequests = duplicates(got.requests);
    const dupIds = duplicates(got.ids);
    const perCycle = cycles.map((c) => {
      let prefix = c.start;
      while (prefix < c.end && shippedIdx.has(prefix)) prefix++;
      let after = 0; // shipped lines after the first unshipped one: must be 0
      for (let i = prefix; i < c.end; i++) if (shippedIdx.has(i)) after++;
      return {
        file: c.file.slice(s.logDir.length + 1),
        lines: c.end - c.start,
        in_copy: c.onDiskEnd - c.start,
        window_lost_by_copytruncate: c.end - c.onDiskEnd,
        shipped: prefix - c.start + after,
        unshipped_tail: c.end - prefix,
        unshipped_tail_in_copy: Math.max(0, c.onDiskEnd - prefix),
        shipped_after_a_gap: after,
      };
    });
    const windowLost = perCycle.reduce((n, c) => n + c.window_lost_by_copytruncate, 0);
    const windowShipped = cycles.reduce((n, c) => {
      for (let i = c.onDiskEnd; i < c.end; i++) if (shippedIdx.has(i)) n++;
      return n;
    }, 0);
    report(t, s, {
      nginx_total: total,
      wrk_responses: wrkRequests,
      rotations: s.logrotate.rotations,
      on_disk: cycles.reduce((n, c) => n + c.onDiskEnd - c.start, 0),
      lost_by_copytruncate_from_disk: windowLost,
      of_which_shipped_anyway: windowShipped,
      kafka: got.requests.length,
      missing_from_kafka: total - [...shippedIdx].filter((i) => i >= 0).length,
      dead_letter: dead,
      duplicated_requests: dupRequests.length,
      duplicated_ids: dupIds.length,
      cycles: perCycle,
    });

    assert.equal(code, 0, `agent exit code (stderr: ${s.agent.stderr.slice(-1000)})`);
    assert.equal(dead, 0, 'no line went to the dead-letter topic (none read from the middle of a line)');
    assert.deepEqual(unexpected.slice(0, 20), [], 'Kafka holds only requests nginx logged');
    assert.deepEqual(dupRequests.slice(0, 20), [], `${dupRequests.length} requests arrived more than once`);
    perCycle.forEach((c, i) => assert.equal(c.shipped_after_a_gap, 0, `cycle ${i} (${c.file}): shipped lines after unshipped ones: new content was skipped`));
    const last = perCycle[perCycle.length - 1]!;
    assert.equal(last.unshipped_tail, 0, `the live file at the end: ${last.unshipped_tail} of its ${last.lines} lines not in Kafka`);
    assert.deepEqual(dupIds.slice(0, 20), [], `${dupIds.length} logship-id values are shared by different messages (ids reused after truncation)`);

    const inCopiesNotShipped = perCycle.reduce((n, c) => n + c.unshipped_tail_in_copy, 0);
    assert.equal(inCopiesNotShipped, 0, `${inCopiesNotShipped} lines that are on disk in the copies never reached Kafka: only the copy-to-truncate window may be lost`);
  },
);
