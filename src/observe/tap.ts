/**
 * `logship tap`: samples of the Kafka messages as the encoder makes them
 * (after every transform: the encoder is the last step before a batch),
 * streamed as NDJSON on GET /tap of the agent's HTTP endpoint.
 *
 * Free when nobody taps: the encoder reads `active` once per line and
 * calls offer() only while a session is open; a message is built only for
 * a line that passes a session's filters and rate limit.
 *
 * Records may hold personal data: tap is served on a loopback
 * metrics.listen, elsewhere only with `metrics.tap: true`, and each session
 * is logged (who, filters, how long, how many records shown).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import picomatch from 'picomatch';
import { HOST_HEADER, PATH_HEADER, recordId, RECORD_ID_HEADER, withSource } from '../encode/record-json.ts';
import type { FileSource } from '../tail/types.ts';
import type { Logger } from './logger.ts';

/** What the encoder sees of the tap: one field on the hot path. */
export interface TapPoint {
  readonly active: boolean;
  /**
   * A message as the encoder hands it to its batch: `value` is the record's
   * JSON, its `source` still to add when `sourceApart` (the batch writes it
   * as bytes); headers are the file's when `withHeaders` (message_format: record).
   */
  offer(file: FileSource, topic: string, key: string | null, value: string, sourceApart: boolean, withHeaders: boolean, lineOffset: number): void;
}

/** The tap of an encoder nobody can tap (benchmarks, tests). */
export const NO_TAP: TapPoint = { active: false, offer() {} };

export interface TapFilters {
  /** The input's name, exactly. */
  input?: string;
  /** A glob on the file's path, or a part of it. */
  file?: string;
  /** The message's topic, exactly. */
  topic?: string;
}

export const DEFAULT_TAP_RATE = 5;
/** Enough to read, not enough to turn the tap into a second output. */
export const MAX_TAP_RATE = 1000;
/** Each session costs a filter check per line while it is open. */
const MAX_SESSIONS = 4;

/** Whether /tap is served, and why not. */
export interface TapPolicy {
  enabled: boolean;
  /** Why tap is off (the 403's text). */
  reason?: string;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a metrics.listen host is reachable from this machine only. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** metrics.tap when set; else on for a loopback listen address only. */
export function tapPolicy(metrics: { listen: string; tap?: boolean }): TapPolicy {
  if (metrics.tap === true) return { enabled: true };
  if (metrics.tap === false) return { enabled: false, reason: 'tap is disabled by metrics.tap: false in the configuration' };
  if (isLoopbackListen(metrics.listen)) return { enabled: true };
  return {
    enabled: false,
    reason: `tap is off: metrics.listen ${metrics.listen} is not a loopback address and records may hold personal data; set metrics.tap: true to serve it there`,
  };
}

/** A glob when it has glob characters, else a part of the path. */
function pathMatcher(pattern: string): (path: string) => boolean {
  if (picomatch.scan(pattern).isGlob) return picomatch(pattern, { dot: true });
  return (path) => path.includes(pattern);
}

class TapSession {
  readonly filters: TapFilters;
  readonly rate: number;
  readonly res: ServerResponse;
  readonly started = Date.now();
  shown = 0;
  /** Lines that passed the filters while the client had not yet read what it was sent (not shown). */
  skippedSlowClient = 0;
  private tokens: number;
  private refilled = performance.now();
  private readonly matchPath: ((path: string) => boolean) | undefined;
  // Lines come in runs per file: the last path's verdict is kept.
  private lastPath: string | undefined;
  private lastPathMatched = false;

  constructor(filters: TapFilters, rate: number, res: ServerResponse) {
    this.filters = filters;
    this.rate = rate;
    this.res = res;
    this.tokens = Math.max(1, rate);
    this.matchPath = filters.file === undefined ? undefined : pathMatcher(filters.file);
  }

  wants(input: string | undefined, path: string, topic: string): boolean {
    const { filters } = this;
    if (filters.input !== undefined && filters.input !== input) return false;
    if (filters.topic !== undefined && filters.topic !== topic) return false;
    if (this.matchPath !== undefined) {
      if (path !== this.lastPath) {
        this.lastPath = path;
        this.lastPathMatched = this.matchPath(path);
      }
      if (!this.lastPathMatched) return false;
    }
    // Never hold the pipeline for a tap: what a slow client cannot take now is skipped.
    if (this.res.writableNeedDrain) {
      this.skippedSlowClient++;
      return false;
    }
    return this.take();
  }

  /** A token bucket: `rate` a second, at most a second's worth (or one) at once. */
  private take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(Math.max(1, this.rate), this.tokens + ((now - this.refilled) / 1000) * this.rate);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  send(line: string): void {
    this.res.write(line);
    this.shown++;
  }
}

/** Reads the query of GET /tap; throws a message for the 400 on a bad one. */
export function tapRequest(query: URLSearchParams): { filters: TapFilters; rate: number } {
  const filters: TapFilters = {};
  let rate = DEFAULT_TAP_RATE;
  for (const [name, value] of query) {
    if (name === 'input' || name === 'file' || name === 'topic') {
      if (value === '') throw new Error(`${name}: empty`);
      filters[name] = value;
    } else if (name === 'rate') {
      rate = Number(value);
      if (!(rate > 0 && rate <= MAX_TAP_RATE)) throw new Error(`rate: ${value} is not a number of records a second between 0 and ${MAX_TAP_RATE}`);
    } else {
      throw new Error(`unknown parameter ${name} (known: input, file, topic, rate)`);
    }
  }
  return { filters, rate };
}

export class Tap implements TapPoint {
  /** True while a session is open: the one thing the encoder reads per line. */
  active = false;
  private readonly sessions = new Set<TapSession>();
  private readonly policy: TapPolicy;
  private readonly log: Logger;

  constructor(policy: TapPolicy, log: Logger) {
    this.policy = policy;
    this.log = log;
  }

  offer(file: FileSource, topic: string, key: string | null, value: string, sourceApart: boolean, withHeaders: boolean, lineOffset: number): void {
    const input = file.source.input;
    for (const session of this.sessions) {
      if (!session.wants(input, file.path, topic)) continue;
      const json = sourceApart ? withSource(value, file.sourceJson) : value;
      const headers = withHeaders
        ? JSON.stringify({ [RECORD_ID_HEADER]: recordId(file.id, lineOffset), [HOST_HEADER]: file.source.host ?? '', [PATH_HEADER]: file.path })
        : '{}';
      // The value is the message's JSON as it is sent, embedded as it is rather than as a string.
      session.send(`{"topic":${JSON.stringify(topic)},"key":${JSON.stringify(key)},"headers":${headers},"value":${json}}\n`);
    }
  }

  /** GET /tap[?input=&file=&topic=&rate=]: NDJSON until the client goes. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    if (!this.policy.enabled) {
      this.log.warn({ remote }, `tap refused: ${this.policy.reason}`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`${this.policy.reason}\n`);
      return;
    }
    let request: { filters: TapFilters; rate: number };
    try {
      request = tapRequest(new URL(req.url ?? '/', 'http://tap').searchParams);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`tap: ${(err as Error).message}\n`);
      return;
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      res.writeHead(429, { 'content-type': 'text/plain' }).end(`tap: ${MAX_SESSIONS} sessions are open already; try again when one ends\n`);
      return;
    }
    const session = new TapSession(request.filters, request.rate, res);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    this.sessions.add(session);
    this.active = true;
    this.log.info({ remote, filters: request.filters, rate: request.rate }, 'tap session started');
    res.once('close', () => {
      this.sessions.delete(session);
      this.active = this.sessions.size > 0;
      this.log.info(
        { remote, filters: request.filters, rate: request.rate, duration_ms: Date.now() - session.started, records_shown: session.shown, records_skipped_slow_client: session.skippedSlowClient },
        'tap session ended',
      );
    });
  }

  /** Ends every session (the agent stops: the HTTP server closes only once its responses have ended). */
  close(): void {
    for (const session of this.sessions) session.res.end();
  }
}
