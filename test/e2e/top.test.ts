/**
 * `logship top` reading a running agent that ships to the real Kafka:
 * piped, one plain line per interval with the input's rates; on a real
 * terminal (tmux), the tables redrawn in place.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, CLI, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLines } from '../support/combined-lines.ts';
import { createTopic, testBrokers } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

/** An agent shipping `web` to Kafka, its file growing by 50 lines every 100 ms until the test ends. */
async function busyAgent(t: { after(fn: () => unknown): void }): Promise<{ agent: AgentProcess; url: string }> {
  // Registered first, so the writing stops before the directory is removed.
  const writing = new AbortController();
  t.after(() => writing.abort());
  const dir = tempDir(t);
  const topic = await createTopic('e2e-top');
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const agent = new AgentProcess(['run', '--config', writeConfig(dir, {
    inputs: [{ name: 'web', paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: testBrokers(), topic },
    batch: { linger_ms: 20 },
    state_dir: join(dir, 'state'),
  })]);
  t.after(() => agent.stop('SIGKILL'));
  const listening = await agent.waitForLog('metrics and health endpoints listening');
  let written = 0;
  const writer = setInterval(() => {
    appendFileSync(log, combinedLines(written, 50));
    written += 50;
  }, 100);
  writing.signal.addEventListener('abort', () => clearInterval(writer));
  return { agent, url: `http://127.0.0.1:${(listening.address as { port: number }).port}` };
}

const RATE = '([1-9][\\d,]*(?:\\.\\d)?)\\/s';

test('top piped: one plain line per interval, the input with its rates in and acked', async (t) => {
  const { url } = await busyAgent(t);
  const top = new AgentProcess(['top', '--url', url, '--interval', '0.5']);
  t.after(() => top.stop('SIGKILL'));
  const busy = await waitFor('a line with web at a non-zero rate', () => top.logs.find((l) => new RegExp(`web: in ${RATE} acked ${RATE}`).test(l.msg)));
  console.log(`logship top | cat: ${busy.msg}`);
  assert.match(busy.msg, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z web: in /);
  assert.match(busy.msg, /parse_errors 0 dead_letters 0 lag \d/);
  assert.match(busy.msg, /\|\| spool \S+ in \d+ entries, oldest \S+; in-flight batches \d+; kafka up$/);
  const lines = top.logs.length;
  await waitFor('two more lines', () => top.logs.length >= lines + 2);
  assert.ok(top.logs.every((l) => !l.msg.includes('\x1b')), 'no terminal escapes in a pipe');
  await top.stop('SIGINT');
});

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

test('top on a terminal (tmux): the tables, refreshed in place', async (t) => {
  const { url } = await busyAgent(t);
  const session = `logship-top-${process.pid}`;
  tmux('new-session', '-d', '-x', '160', '-y', '40', '-s', session, process.execPath, CLI, 'top', '--url', url, '--interval', '0.5');
  t.after(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // Gone already.
    }
  });
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  const busy = await waitFor('the web row at a non-zero rate', () => {
    const text = screen();
    return new RegExp(`│ web +│ +${RATE} │ +${RATE} │`).test(text) ? text : undefined;
  });
  console.log(`logship top in a 160x40 terminal:\n${busy.trimEnd()}`);
  assert.match(busy, /^logship top {2}http:\/\/127\.0\.0\.1:\d+\/metrics {2}every 0\.5s {2}\d\d:\d\d:\d\d UTC/m);
  assert.match(busy, /│ input │ lines\/s in │ acked\/s │ parse errors │ dead letters │ +lag │ lag age │ files │/);
  assert.match(busy, /│ file \(most lag first\) +│ input │ +lag │ lag age │/);
  assert.match(busy, /\/access\.log +│ web +│/);
  assert.match(busy, /kafka up/);
  const title = (text: string) => text.split('\n')[0];
  const later = await waitFor('a later refresh', () => {
    const text = screen();
    return title(text) !== title(busy) ? text : undefined;
  });
  // In place: the whole history of the pane (scrollback included) holds the table once.
  const history = tmux('capture-pane', '-p', '-S', '-', '-t', session);
  assert.equal(history.split('lines/s in').length - 1, 1, `one table in the pane's history:\n${history}`);
  assert.equal(later.split('\n').filter((l) => l.startsWith('logship top')).length, 1);
});
