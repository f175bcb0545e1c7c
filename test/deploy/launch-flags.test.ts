/** Every way of starting the agent gives Node the same flags as bin/logship.js's shebang. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { agentNodeFlags } from '../../scripts/agent-launch.ts';
import { seaSettings } from '../../scripts/package/sea.ts';
import { repoPath } from '../support/repo-path.ts';

test("the single executable (the .deb's, which the systemd unit runs) and the image start Node with bin/logship.js's shebang flags", () => {
  const flags = agentNodeFlags();
  assert.ok(flags.length > 0, 'the shebang carries Node flags');
  assert.deepEqual(seaSettings().execArgv, flags, 'scripts/package/sea-config.json execArgv');
  const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(repoPath('systemd/logship.service'), 'utf8'))?.[1]?.split(' ') ?? [];
  assert.equal(execStart[0], '/usr/bin/logship', 'the unit runs the executable, which carries the flags');
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(repoPath('Dockerfile'), 'utf8'))?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? '[]'), ['node', ...flags, '/opt/logship/bin/logship.js']);
});
