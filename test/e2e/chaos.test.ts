/**
 * The delivery contract under chaos: 100,000 lines written while the broker
 * is stopped and restarted twice and the agent is SIGKILLed five times at
 * random instants. At the end every line is in Kafka (checked by record
 * id: file identity + the byte offset of the line), and the duplicates are
 * counted and bounded by what was in flight at each fault.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { combinedLine } from '../support/combined-lines.ts';
import { createTopicNamed } from '../support/kafka.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const kafka = new LocalKafka();
before(() => kafka.start());
after(() => kafka.stop());

const LINES = 100_000;
const CHUNK = 500;
const MAX_IN_FLIGHT = 4;
const MAX_RECORDS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

test('100,000 lines through 2 broker outages and 5 SIGKILLs: every line arrives, duplicates bounded', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  await createTopicNamed('chaos', kafka.brokers);
  const config = writeConfig(dir, {
    inputs: [{ paths: [log], format: 'combined', poll_interval_ms: 50 }],
    kafka: { brokers: kafka.brokers, topic: 'chaos', max_in_flight: MAX_IN_FLIGHT, retry_backoff_ms: 50, retry_backoff_max_ms: 500, request_timeout_ms: 3000, connection_timeout_ms: 1000 },
    batch: { max_records: MAX_RECORDS, linger_ms: 20 },
    state_dir: join(dir, 'state'),
    shutdown_timeout_ms: 10_000,
  });
  const agents: AgentProcess[] = [];
  const startAgent = () => {
    const agent = new AgentProcess(['run', '--config', config]);
    agents.push(agent);
    return agent;
  };
  t.after(() => Promise.all(agents.map((a) => a.stop('SIGKILL'))));

  // The writer: 100,000 lines in chunks over ~20 s; the offset of every line is known.
  const offsets: number[] = [];
  let size = 0;
  let written = 0;
  const writing = (async () => {
    while (written < LINES) {
      let chunk = '';
      for (let i = written; i < written + CHUNK; i++) {
        const line = combinedLine(i) + '\n';
        offsets.push(size);
        size += Buffer.byteLength(line);
        chunk += line;
      }
      appendFileSync(log, chunk);
      written += CHUNK;
      await sleep(100);
    }
  })();

  // The faults, at random instants while the lines are written (all within ~10 s of the writer's ~20 s).
  let agent = startAgent();
  const faults: string[] = [];
  for (let kill = 1; kill <= 5; kill++) {
    await sleep(between(500, 1500));
    await agent.stop('SIGKILL');
    faults.push(`SIGKILL at ${written} lines written`);
    agent = startAgent();
    if (kill === 2 || kill === 4) {
      await sleep(between(200, 800));
      await kafka.pause();
      faults.push(`broker stopped at ${written} lines written`);
      await sleep(between(1000, 2000));
      await kafka.resume();
      faults.push(`broker back at ${written} lines written`);
    }
  }
  await writing;
  t.diagnostic(faults.join('; '));

  // Everything written is delivered: nothing lags, nothing waits in the spool.
  await waitFor(
    'the agent caught up (no lag, empty spool)',
    async () => {
      const { body } = await agent.http('/metrics');
      return /^logship_file_lag_bytes\{[^}]*\} 0$/m.test(body) && /^logship_spool_entries 0$/m.test(body) && /^logship_in_flight_batches 0$/m.test(body);
    },
    120_000,
    250,
  );
  assert.equal((await agent.stop()).code, 0);

  const { stdout } = await exec('kcat', ['-C', '-b', kafka.brokers.join(','), '-t', 'chaos', '-o', 'beginning', '-e', '-q', '-f', '%h\n'], { maxBuffer: 1 << 30 });
  const ids = stdout.split('\n').filter(Boolean).map((headers) => /logship-id=([^,]+)/.exec(headers)![1]!);
  const seen = new Map<number, number>();
  for (const id of ids) {
    const offset = Number(id.slice(id.lastIndexOf(':') + 1));
    seen.set(offset, (seen.get(offset) ?? 0) + 1);
  }
  const missing = offsets.filter((o) => !seen.has(o));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${LINES} lines missing`);
  assert.equal(seen.size, LINES, 'no message for an offset that is not a line');
  const duplicates = ids.length - LINES;
  const bound = 7 * (MAX_IN_FLIGHT + 1) * MAX_RECORDS; // per fault: the batches in flight at that instant
  t.diagnostic(`${ids.length} messages for ${LINES} lines: ${duplicates} duplicates (bound ${bound} for 5 kills + 2 outages)`);
  assert.ok(duplicates <= bound, `${duplicates} duplicates exceed ${bound}`);
});
