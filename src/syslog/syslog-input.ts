import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { FileCheckpoint } from '../checkpoint/checkpoint-file.ts';
import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import { ConfigError } from '../config/load.ts';
import type { InputConfig, SyslogConfig } from '../config/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { FileState, LineSink } from '../tail/types.ts';
import { MalformedSyslog, parseSyslogHeader } from './syslog-header.ts';
import { SyslogSources, type Transport } from './syslog-sources.ts';
import { FrameSplitter } from './tcp-framing.ts';
import { UdpKernelDrops } from './udp-drops.ts';

/** Counts of one syslog input, exported as logship_syslog_* (syslog-metrics.ts). */
export interface SyslogCounters {
  udp_datagrams_received: number;
  /** Dropped because the queue held queue_messages while the pipeline was full. */
  udp_datagrams_dropped_queue_full: number;
  tcp_messages_received: number;
  tcp_connections_accepted: number;
  /** Connections closed because their bytes were not syslog framing. */
  tcp_connections_bad_framing: number;
  /** TCP reads paused because the pipeline was full (backpressure). */
  tcp_pauses: number;
  /** Messages without a valid syslog header (shipped whole to the input's format, which usually fails: on_error). */
  malformed: number;
  /** Messages cut to max_line_bytes. */
  truncated: number;
}

/** The encoders of a syslog input: one per tag with its own format, the input's for the others. */
export interface SyslogEncoders {
  byTag: ReadonlyMap<string, LineSink>;
  fallback: LineSink;
}

/** A socket that cannot be bound: a configuration problem (exit 2) naming the setting. */
function bindError(input: InputConfig, transport: Transport, listen: string, err: NodeJS.ErrnoException): Error {
  const message = `syslog.${transport} ${listen}: cannot listen: ${err.message}`;
  if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return new ConfigError(`input ${input.name}`, [message]);
  return new Error(`input ${input.name}: ${message}`, { cause: err });
}

/** The UDP queue's bound in bytes too (queue_messages of 64 KiB datagrams would be 640 MiB). */
export const QUEUE_MAX_BYTES = 16 * 2 ** 20;

function listenParts(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}

/**
 * `type: syslog`: receives what nginx sends with `access_log syslog:...`
 * (UDP) and what relays forward over TCP, strips the syslog header
 * (syslog-header.ts) and hands the message, the access log line, to the
 * encoder of its tag. Stands where a file input's Tailer stands.
 *
 * UDP has no backpressure: while the pipeline is full, datagrams wait in a
 * queue of queue_messages, and beyond it are dropped and counted; the
 * kernel drops what does not fit its receive buffer (counted there:
 * udp-drops.ts). TCP connections stop being read while the pipeline is
 * full, so a relay buffers (or blocks) instead.
 */
export class SyslogInput {
  readonly input: InputConfig;
  readonly counters: SyslogCounters = {
    udp_datagrams_received: 0,
    udp_datagrams_dropped_queue_full: 0,
    tcp_messages_received: 0,
    tcp_connections_accepted: 0,
    tcp_connections_bad_framing: 0,
    tcp_pauses: 0,
    malformed: 0,
    truncated: 0,
  };
  private readonly settings: SyslogConfig;
  private readonly encoders: SyslogEncoders;
  private readonly log: Logger;
  private readonly sources: SyslogSources;
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private kernelDrops: UdpKernelDrops | undefined;
  private readonly connections = new Set<TcpSocket>();
  private readonly pausedSockets = new Set<TcpSocket>();
  /** Datagrams received while the pipeline was full. */
  private queue: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  private queueBytes = 0;
  private full = false;
  private stopped = false;
  private readonly unsettled = new Set<OffsetTracker>();
  private settledWaiters: (() => void)[] = [];
  private readonly warnedMalformed = new Set<string>();

  constructor(input: InputConfig, host: string, encoders: SyslogEncoders, log: Logger) {
    if (!input.syslog || (input.syslog.udp === undefined && input.syslog.tcp === undefined)) {
      throw new Error(`input ${input.name}: syslog needs udp: host:port, tcp: host:port, or both`);
    }
    this.input = input;
    this.settings = input.syslog;
    this.encoders = encoders;
    this.log = log.child({ input: input.name });
    this.sources = new SyslogSources(host, input.name, (tracker) => this.advanced(tracker));
  }

  async start(): Promise<void> {
    const { udp, tcp } = this.settings;
    if (udp !== undefined) await this.listenUdp(udp);
    if (tcp !== undefined) await this.listenTcp(tcp);
  }

  private async listenUdp(listen: string): Promise<void> {
    const { host, port } = listenParts(listen);
    const ipv6 = host.includes(':');
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ...(this.settings.receive_buffer_bytes ? { recvBufferSize: this.settings.receive_buffer_bytes } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(bindError(this.input, 'udp', listen, err)));
      socket.bind(port, host, () => resolve());
    });
    socket.on('error', (err) => this.log.error({ err }, 'syslog UDP socket error'));
    socket.on('message', (msg, rinfo) => this.datagram(msg, rinfo));
    this.udp = socket;
    const bound = socket.address();
    this.kernelDrops = new UdpKernelDrops(bound.port, ipv6);
    const receiveBuffer = socket.getRecvBufferSize();
    this.log.info({ transport: 'udp', address: `${bound.address}:${bound.port}`, receive_buffer_bytes: receiveBuffer }, 'receiving syslog');
    const asked = this.settings.receive_buffer_bytes;
    // Linux doubles the size asked for (bookkeeping) and caps it at net.core.rmem_max.
    if (asked !== undefined && receiveBuffer < asked) {
      this.log.warn({ asked, got: receiveBuffer }, 'the kernel gave a smaller UDP receive buffer than syslog.receive_buffer_bytes: raise sysctl net.core.rmem_max');
    }
  }

  private async listenTcp(listen: string): Promise<void> {
    const { host, port } = listenParts(listen);
    const server = createServer((socket) => this.connection(socket));
    server.maxConnections = this.settings.max_connections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(bindError(this.input, 'tcp', listen, err)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err }, 'syslog TCP server error'));
    this.tcp = server;
    const bound = server.address();
    this.log.info({ transport: 'tcp', address: typeof bound === 'object' && bound ? `${bound.address}:${bound.port}` : listen }, 'receiving syslog');
  }

  /** Where it listens (the ports the OS picked for :0). */
  addresses(): { udp?: number; tcp?: number } {
    const tcp = this.tcp?.address();
    return { udp: this.udp?.address().port, tcp: typeof tcp === 'object' && tcp ? tcp.port : undefined };
  }

  private datagram(msg: Buffer, rinfo: RemoteInfo): void {
    this.counters.udp_datagrams_received++;
    if (this.full || this.queue.length > 0) {
      if (this.queue.length >= this.settings.queue_messages || this.queueBytes + msg.length > QUEUE_MAX_BYTES) {
        this.counters.udp_datagrams_dropped_queue_full++;
        return;
      }
      this.queue.push({ msg, rinfo });
      this.queueBytes += msg.length;
      return;
    }
    if (!this.udpMessage(msg, rinfo)) this.full = true;
  }

  private udpMessage(msg: Buffer, rinfo: RemoteInfo): boolean {
    return this.message('udp', 0, rinfo.address, rinfo.port, msg, 0, msg.length, undefined);
  }

  private connection(socket: TcpSocket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.counters.tcp_connections_accepted++;
    this.connections.add(socket);
    const serial = this.sources.newConnection();
    const address = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    const splitter = new FrameSplitter(this.input.max_line_bytes);
    socket.on('data', (chunk: Buffer) => {
      let accepted = true;
      const problem = splitter.push(chunk, (frame) => {
        this.counters.tcp_messages_received++;
        if (frame.truncated) this.counters.truncated++;
        if (!this.message('tcp', serial, address, port, frame.buf, frame.start, frame.end, frame.offset, frame.truncated)) accepted = false;
      });
      if (problem !== undefined) {
        this.counters.tcp_connections_bad_framing++;
        this.log.warn({ address, port, problem }, 'closing a syslog TCP connection: not syslog framing (octet-counted or newline-terminated)');
        socket.destroy();
        return;
      }
      if (!accepted && !this.stopped) {
        // The pipeline is full: the sender's bytes wait in the kernel and then in the sender.
        this.counters.tcp_pauses++;
        socket.pause();
        this.pausedSockets.add(socket);
      }
    });
    socket.on('error', (err) => this.log.debug({ err, address, port }, 'syslog TCP connection error'));
    socket.on('close', () => {
      this.connections.delete(socket);
      this.pausedSockets.delete(socket);
      if (splitter.buffered > 0) this.log.warn({ address, port, bytes: splitter.buffered }, 'syslog TCP connection closed in the middle of a message; its start is dropped');
    });
  }

  /**
   * One syslog message in `buf[start, end)`: header stripped, message to its
   * tag's encoder. `offset`: the TCP frame's stream offset; UDP messages are
   * numbered per source. Returns false when the pipeline is full.
   */
  private message(transport: Transport, connection: number, address: string, port: number, buf: Buffer, start: number, end: number, offset: number | undefined, truncated = false): boolean {
    let tag = '';
    let hostname = '';
    let msgStart = start;
    let msgEnd = end;
    const header = parseSyslogHeader(buf, start, end);
    if (header instanceof MalformedSyslog) {
      this.counters.malformed++;
      if (!this.warnedMalformed.has(address) && this.warnedMalformed.size < 100) {
        this.warnedMalformed.add(address);
        this.log.warn({ transport, address, port, reason: header.reason, excerpt: buf.toString('utf8', start, Math.min(end, start + 120)) }, 'not a syslog message; shipped whole with the input format (further ones from this sender are only counted)');
      }
    } else {
      ({ tag, hostname, msgStart, msgEnd } = header);
    }
    if (msgEnd - msgStart > this.input.max_line_bytes) {
      msgEnd = msgStart + this.input.max_line_bytes;
      truncated = true;
      if (transport === 'udp') this.counters.truncated++;
    }
    const source = this.sources.get(transport, connection, address, port, tag, hostname);
    const lineOffset = offset ?? source.next++;
    const encoder = this.encoders.byTag.get(tag) ?? this.encoders.fallback;
    this.unsettled.add(source.tracker);
    return encoder.line(source, buf, msgStart, msgEnd, lineOffset, lineOffset + 1, truncated);
  }

  /** The pipeline has room again: queued datagrams first, then the paused connections. */
  resume(): void {
    this.full = false;
    let taken = 0;
    while (taken < this.queue.length && !this.full) {
      const { msg, rinfo } = this.queue[taken++]!;
      this.queueBytes -= msg.length;
      if (!this.udpMessage(msg, rinfo)) this.full = true;
    }
    this.queue.splice(0, taken); // once: shift() per datagram is O(queue) each
    if (this.full) return;
    for (const socket of this.pausedSockets) socket.resume();
    this.pausedSockets.clear();
  }

  private advanced(tracker: OffsetTracker): void {
    if (tracker.pending > 0) return;
    this.unsettled.delete(tracker);
    if (this.stopped && this.unsettled.size === 0) for (const wake of this.settledWaiters.splice(0)) wake();
  }

  /** UDP datagrams held now. */
  get queued(): number {
    return this.queue.length;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** The kernel's drops for the UDP socket (/proc/net/udp), read now. */
  async kernelDropped(): Promise<number | undefined> {
    return this.kernelDrops?.read();
  }

  /** Stops receiving; datagrams queued are handed over first (the pipeline takes them past its limit: the queue is bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { msg, rinfo } of this.queue.splice(0)) this.udpMessage(msg, rinfo);
    this.queueBytes = 0;
    for (const socket of this.connections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
  }

  /** After stop(): resolves once every message handed over is acknowledged (or spooled). */
  /** No end to read to: a dry run's --once waits for file inputs only. */
  whenIdle(): Promise<void> {
    return Promise.resolve();
  }

  settled(): Promise<void> {
    for (const tracker of this.unsettled) if (tracker.pending === 0) this.unsettled.delete(tracker);
    if (this.unsettled.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  // What the pipeline asks of every input (as of a Tailer): a syslog input follows no files.

  owns(entry: FileCheckpoint): boolean {
    void entry;
    return false;
  }

  get followedCount(): number {
    return 0;
  }

  get openDescriptors(): number {
    return (this.udp ? 1 : 0) + (this.tcp ? 1 : 0) + this.connections.size;
  }

  fileStates(): Iterable<FileState> {
    return []; // no files: no lag to report
  }
}
