/**
 * Readiness for systemd (Type=notify): when systemd started the agent it
 * sets NOTIFY_SOCKET, a Unix datagram socket that Node cannot write to
 * without a native addon, so the agent runs systemd-notify(1) to say READY=1
 * (the unit's NotifyAccess=all lets a child speak for it; systemd-notify waits
 * until systemd has the message, so it is not lost when the child exits).
 * Elsewhere this does nothing.
 */
import { execFile } from 'node:child_process';
import type { Logger } from './logger.ts';

export function notifySystemdReady(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (!env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', ['--ready', '--status=following files, shipping to Kafka'], { env }, (err, _stdout, stderr) => {
    if (err) log.warn({ err, stderr: stderr.trim() }, 'could not tell systemd the agent is ready (systemd-notify); a Type=notify unit will time out starting');
  });
}
