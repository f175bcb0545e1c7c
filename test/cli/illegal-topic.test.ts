/**
 * A topic template that renders a name Kafka refuses (empty, or ".." from
 * `.{{ field }}.` with the field empty): the agent says "illegal topic
 * name", naming it and the setting, not that a topic "does not exist" or a
 * bare "Invalid topic". Against the real broker.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempDir, writeConfig } from '../support/agent.ts';
import { testBrokers } from '../support/kafka.ts';

// remote_user is "-" (none): the template renders it empty.
const LINE = '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "-" "curl/8"\n';

for (const { template, rendered, by } of [
  { template: '{{ remote_user }}', rendered: '', by: 'kafkajs' },
  { template: '.{{ remote_user }}.', rendered: '..', by: 'the broker' },
]) {
  test(`a topic template that renders "${rendered}" (refused by ${by}) is reported as an illegal topic name`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'access.log'), LINE);
    const config = writeConfig(dir, {
      inputs: [{ paths: [join(dir, '*.log')], format: 'combined' }],
      kafka: { brokers: testBrokers(), topic: template },
      state_dir: join(dir, 'state'),
      spool: { enabled: false },
      // The batch can never be sent: stop without waiting the default 30 s for it.
      shutdown_timeout_ms: '1s',
    });
    const agent = new AgentProcess(['run', '--config', config]);
    t.after(() => agent.stop('SIGKILL'));
    const error = await agent.waitForLog('topic', (l) => l.level === 50);
    process.stdout.write(`# ${template}: ${error.msg} (kind ${String(error.kind)})\n`);
    assert.match(error.msg, new RegExp(`illegal topic name "${rendered.replace(/\./g, '\\.')}"`));
    assert.match(error.msg, /kafka\.topic/);
    assert.doesNotMatch(error.msg, /does not exist/);
    assert.equal(error.kind, 'invalid_topic');
    assert.equal((await agent.stop()).code, 0);
  });
}
