import { connect, type ConsumeMessage } from 'amqplib';

/** Takes every message a queue holds now (acked: gone from it), in queue order. */
export async function drainQueue(url: string, queue: string): Promise<ConsumeMessage[]> {
  const model = await connect(url, { noDelay: true });
  try {
    const channel = await model.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    const out: ConsumeMessage[] = [];
    if (messageCount === 0) return out;
    // A consumer, not basic.get (a round trip per message would take seconds), taking no more than the queue holds
    // now (prefetch): messages published meanwhile stay in the queue for the next call.
    await channel.prefetch(Math.min(messageCount, 65535));
    await new Promise<void>((resolve) => {
      void channel.consume(queue, (m) => {
        if (m === null) return resolve();
        out.push(m);
        if (out.length === Math.min(messageCount, 65535)) resolve();
      });
    });
    channel.ackAll();
    await channel.close();
    return out;
  } finally {
    await model.close();
  }
}

/** Messages in a queue now (a passive declare: no Erlang CLI started). */
export async function queueDepth(url: string, queue: string): Promise<number> {
  const model = await connect(url);
  try {
    const channel = await model.createChannel();
    // A queue not declared yet closes the channel (404): the promise rejects, the event is not an uncaught error.
    channel.on('error', () => undefined);
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** The index of a combinedLine() (carried in body_bytes_sent) in a message's record. */
export function lineIndex(content: Buffer): number {
  return (JSON.parse(content.toString('utf8')) as { body_bytes_sent: number }).body_bytes_sent - 1000;
}
