/** The systemd unit: its sandboxing score. (test/package/deb.test.ts verifies it installed, with its binary.) */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { repoPath } from '../support/repo-path.ts';

test('systemd unit: systemd-analyze security rates it 1.5 or lower', () => {
  const out = execFileSync('systemd-analyze', ['security', '--offline=true', repoPath('systemd/logship.service')], { encoding: 'utf8' });
  const score = Number(/Overall exposure level for logship\.service: ([\d.]+)/.exec(out)?.[1]);
  assert.ok(score <= 1.5, `exposure ${score}:\n${out}`);
});
