/** What the syslog tests share: formats carrying nginx's $request_id, the agent's ports, records by request id. */
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AgentProcess } from '../support/agent.ts';
import { testBrokers, type ConsumedMessage } from '../support/kafka.ts';

/** combined, with $request_id last: the count key. */
export const FORMAT_WEB = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_id';
/** Another log's format, on the same port under another tag. */
export const FORMAT_API = 'rid=$request_id status=$status uri=$uri time=$time_iso8601 rt=$request_time';

/** The port a syslog input of the agent listens on (`<transport>` given as :0), from its log. */
export async function syslogPort(agent: AgentProcess, transport: 'udp' | 'tcp', input?: string): Promise<number> {
  const line = await agent.waitForLog('receiving syslog', (l) => l.transport === transport && (input === undefined || l.input === input));
  return Number(String(line.address).split(':').pop());
}

/** The request ids nginx wrote to a plain access log of `format` (its own record of what it logged). */
export function truthIds(file: string, format: 'web' | 'api'): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (format === 'web' ? line.slice(line.lastIndexOf(' ') + 1) : /rid=(\w+)/.exec(line)![1]!));
}

export interface SyslogRecord {
  request_id: string;
  source: { host: string; input: string; transport: string; address: string; hostname: string; tag: string };
  id: string;
}

export function syslogRecords(messages: ConsumedMessage[]): SyslogRecord[] {
  return messages.map((m) => {
    const value = JSON.parse(m.value) as { request_id: string; source: SyslogRecord['source'] };
    return { request_id: value.request_id, source: value.source, id: m.headers['logship-id']! };
  });
}

/** A metric's value from the agent's /metrics text. */
export function metric(text: string, name: string, labels = ''): number | undefined {
  const m = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Kafka comes within reach: a proxy to the real broker at `port`, the
 * agent's bootstrap address, where nothing listened before. (The broker
 * then tells the agent its own address, which it uses from there on.)
 */
export async function kafkaAppearsAt(t: { after(fn: () => unknown): void }, port: number): Promise<void> {
  const [brokerHost, brokerPort] = testBrokers()[0]!.split(':') as [string, string];
  const proxy = createServer((client) => {
    const upstream = connect(Number(brokerPort), brokerHost);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => proxy.close(resolve)));
}
