/** Every way of starting the agent gives Node the same flags as bin/logship.js's shebang. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { agentNodeFlags } from '../../scripts/agent-launch.ts';
import { repoPath } from '../support/repo-path.ts';

test("the systemd unit and the image start Node with bin/logship.js's shebang flags", () => {
  const flags = agentNodeFlags();
  assert.ok(flags.length > 0, 'the shebang carries Node flags');
  const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(repoPath('systemd/logship.service'), 'utf8'))?.[1]?.split(' ') ?? [];
  assert.deepEqual(execStart.slice(0, flags.length + 2), ['/usr/bin/node', ...flags, '/opt/logship/bin/logship.js']);
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(repoPath('Dockerfile'), 'utf8'))?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? '[]'), ['node', ...flags, '/opt/logship/bin/logship.js']);
});
