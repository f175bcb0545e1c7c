import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The installed entry point: runs the built dist/ (npm run build; npm pack builds it), else the sources. */
export const AGENT_BIN = fileURLToPath(new URL('../bin/logship.js', import.meta.url));

/**
 * The Node flags the agent runs with: those on bin/logship.js's shebang
 * line, which the systemd unit and the image repeat (test/deploy checks).
 */
export function agentNodeFlags(): string[] {
  return readFileSync(AGENT_BIN, 'utf8').split('\n', 1)[0]!.split(' ').filter((arg) => arg.startsWith('--'));
}
