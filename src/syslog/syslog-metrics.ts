import { Counter, Gauge, type Registry } from 'prom-client';
import type { SyslogCounters, SyslogInput } from './syslog-input.ts';

const COUNTERS: [keyof SyslogCounters, string, string][] = [
  ['udp_datagrams_received', 'logship_syslog_udp_datagrams_received_total', 'UDP datagrams received by a syslog input.'],
  ['udp_datagrams_dropped_queue_full', 'logship_syslog_udp_datagrams_dropped_total', 'UDP datagrams dropped because the queue (syslog.queue_messages) was full while Kafka was slow.'],
  ['tcp_messages_received', 'logship_syslog_tcp_messages_received_total', 'Syslog messages received over TCP.'],
  ['tcp_connections_accepted', 'logship_syslog_tcp_connections_total', 'TCP connections accepted.'],
  ['tcp_connections_bad_framing', 'logship_syslog_tcp_bad_framing_total', 'TCP connections closed because their bytes were not syslog framing.'],
  ['tcp_pauses', 'logship_syslog_tcp_pauses_total', 'Times a TCP connection stopped being read because the pipeline was full (backpressure).'],
  ['malformed', 'logship_syslog_malformed_total', 'Messages without a valid syslog header (shipped whole with the input format).'],
  ['truncated', 'logship_syslog_truncated_total', 'Messages cut to max_line_bytes.'],
];

/** logship_syslog_* of the syslog inputs running now, by input; read at scrape time. */
export function registerSyslogMetrics(registry: Registry, inputs: () => SyslogInput[]): void {
  for (const [counter, name, help] of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['input'],
      registers: [registry],
      collect() {
        this.reset();
        for (const input of inputs()) this.inc({ input: input.input.name }, input.counters[counter]);
      },
    });
  }
  new Counter({
    name: 'logship_syslog_udp_kernel_drops_total',
    help: "The kernel's drops for a syslog input's UDP socket (receive buffer full; /proc/net/udp drops): datagrams the agent never saw.",
    labelNames: ['input'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const input of inputs()) {
        const drops = await input.kernelDropped();
        if (drops !== undefined) this.inc({ input: input.input.name }, drops);
      }
    },
  });
  new Gauge({ name: 'logship_syslog_udp_queued', help: 'UDP datagrams waiting while the pipeline is full.', labelNames: ['input'], registers: [registry], collect() { this.reset(); for (const input of inputs()) this.set({ input: input.input.name }, input.queued); } });
  new Gauge({ name: 'logship_syslog_tcp_open_connections', help: 'TCP connections open now.', labelNames: ['input'], registers: [registry], collect() { this.reset(); for (const input of inputs()) this.set({ input: input.input.name }, input.openConnections); } });
}
