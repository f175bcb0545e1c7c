import type { ChannelModel } from 'amqplib';
import type { Writable } from 'node:stream';

/**
 * The connection's socket held corked while a batch is published, so its
 * frames go out in a few writev calls: amqplib's muxer writes each frame
 * of each message with a write of its own (a system call each, a fifth of
 * the agent's CPU at 17,000 messages/s, measured), in a setImmediate
 * scheduled (from a nextTick) after the publish calls. uncork() therefore
 * waits two turns of the event loop, so the muxer has written by then.
 * uncork() undoes cork() once, and does nothing when not corked: nothing
 * stays held, whichever way a publish ends.
 */
export class CorkedWrites {
  private readonly socket: Writable | undefined;

  constructor(model: ChannelModel) {
    // amqplib's Connection keeps the socket as `stream` (not in its types).
    const stream = (model.connection as unknown as { stream?: Writable }).stream;
    this.socket = typeof stream?.cork === 'function' ? stream : undefined;
  }

  private corked = false;

  cork(): void {
    if (this.corked || !this.socket) return;
    this.socket.cork();
    this.corked = true;
  }

  uncork(): void {
    const socket = this.socket;
    if (!this.corked || !socket) return;
    this.corked = false;
    setImmediate(() => setImmediate(() => socket.uncork()));
  }
}
