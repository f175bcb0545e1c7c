/**
 * Realistic, deterministic access-log traffic for benchmarks: the same seed
 * gives the same lines on every machine. Clients over IPv4 and IPv6, a few
 * authenticated users, a spread of methods, paths (some percent-encoded or
 * raw UTF-8), query strings, statuses, sizes, referers, real user agents
 * (and the odd hostile one with quotes and backslashes), upstream lists with
 * retries (`, `) and internal redirects (` : `), or no upstream at all.
 *
 *   for (const line of generateLines({ format: 'combined', count: 1e5, seed: 42 })) ...
 */
import type { Escape } from '../src/parse/escape.ts';
import { findPreset } from '../src/parse/presets.ts';
import type { WrittenValue } from './nginx-writer.ts';
import { nginxWriter } from './nginx-writer.ts';

/** mulberry32: tiny, fast, good enough for test data, and reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'curl/8.5.0',
  'Go-http-client/2.0',
  'python-requests/2.32.3',
  'kube-probe/1.31',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'okhttp/4.12.0',
];

/** Rare on purpose (about 1 line in 100): agents nginx has to escape. */
const ODD_USER_AGENTS = ['Evil "quoted" \\backslash\\ agent', 'Navigateur/1.0 (Überprüfung; 中文)', 'tab\there'];

const PATHS = [
  () => '/',
  (r: () => number) => `/api/v1/users/${Math.floor(r() * 100000)}`,
  (r: () => number) => `/api/v1/orders/${Math.floor(r() * 1e6)}/items`,
  (r: () => number) => `/static/js/app.${Math.floor(r() * 0xffffff).toString(16)}.js`,
  (r: () => number) => `/static/css/main.${Math.floor(r() * 0xffffff).toString(16)}.css`,
  (r: () => number) => `/images/products/${Math.floor(r() * 5000)}/large.webp`,
  () => '/healthz',
  () => '/search',
  () => '/favicon.ico',
  () => '/caf%C3%A9/men%C3%BC',
  (r: () => number) => `/graphql/${['query', 'mutation'][Math.floor(r() * 2)]}`,
];

/** Raw UTF-8 in the request line (escaped by nginx), about 1 line in 200. */
const ODD_PATHS = ['/文档/指南', '/café/menü'];

const QUERIES = [
  (r: () => number) => `q=${['shoes', 'red+dress', 'laptop%20bag', '%E4%BD%A0%E5%A5%BD'][Math.floor(r() * 4)]}&page=${1 + Math.floor(r() * 9)}`,
  (r: () => number) => `id=${Math.floor(r() * 1e6)}`,
  () => 'utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale',
  () => 'fields=name,price&lang=zh-CN',
  () => 'redirect=http://example.org/?a=1%26b=2',
];

const REFERERS = ['https://www.example.com/', 'https://www.google.com/', 'https://shop.example.com/cart?step=2', 'android-app://com.example.app/'];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function ipv4(r: () => number): string {
  return `${10 + Math.floor(r() * 200)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
}

function ipv6(r: () => number): string {
  const h = () => Math.floor(r() * 0x10000).toString(16);
  return r() < 0.5 ? `2001:db8:${h()}:${h()}::${h()}` : `2a02:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function timeLocal(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

const STATUSES: readonly [number, number][] = [[200, 0.72], [304, 0.08], [301, 0.03], [302, 0.03], [404, 0.06], [401, 0.02], [499, 0.01], [500, 0.02], [502, 0.02], [503, 0.01]];

function status(r: () => number): number {
  let x = r();
  for (const [code, p] of STATUSES) {
    if ((x -= p) < 0) return code;
  }
  return 200;
}

/** One request's variables, as nginx would hold them (undefined: not set). */
export function generateRequest(r: () => number, epochMs: number): Record<string, WrittenValue> {
  const method = r() < 0.8 ? 'GET' : pick(r, ['POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']);
  const path = r() < 0.005 ? pick(r, ODD_PATHS) : pick(r, PATHS)(r);
  const args = r() < 0.35 ? pick(r, QUERIES)(r) : undefined;
  const uri = args === undefined ? path : `${path}?${args}`;
  const protocol = r() < 0.85 ? 'HTTP/1.1' : r() < 0.8 ? 'HTTP/2.0' : 'HTTP/1.0';
  const code = status(r);
  const bytes = code === 304 ? 0 : Math.floor(Math.exp(4 + r() * 9));
  const requestTime = Math.floor(r() < 0.9 ? r() * 50 : r() * 3000);

  // Upstream tries: usually one, sometimes a retry, rarely a second group.
  let upstream: Record<string, WrittenValue> = {};
  const u = r();
  if (u > 0.05) {
    const tries = u > 0.98 ? 3 : u > 0.9 ? 2 : 1;
    const addrs: string[] = [];
    const statuses: string[] = [];
    const times: string[] = [];
    const connects: string[] = [];
    const lengths: string[] = [];
    for (let t = 0; t < tries; t++) {
      const last = t === tries - 1;
      addrs.push(`10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}:8080`);
      statuses.push(last ? String(code === 499 ? '-' : code) : '502');
      times.push(seconds(last ? requestTime : Math.floor(r() * 5)));
      connects.push(last || r() < 0.5 ? seconds(Math.floor(r() * 3)) : '-');
      lengths.push(last ? String(bytes) : '0');
    }
    // A third try after an internal redirect goes to another upstream group: ` : `.
    const join = (items: string[]) => items.map((item, i) => (i === 0 ? item : (tries === 3 && i === 2 ? ' : ' : ', ') + item)).join('');
    upstream = {
      upstream_addr: join(addrs),
      upstream_status: join(statuses),
      upstream_response_time: join(times),
      upstream_connect_time: join(connects),
      upstream_header_time: join(times),
      upstream_response_length: join(lengths),
    };
  }
  const addr = r() < 0.8 ? ipv4(r) : ipv6(r);
  const hex = () => Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  const requestId = hex() + hex() + hex() + hex();
  return {
    remote_addr: addr,
    remote_user: r() < 0.97 ? undefined : pick(r, ['alice', 'bob space', 'svc-backup']),
    time_local: timeLocal(new Date(epochMs)),
    time_iso8601: new Date(epochMs).toISOString().slice(0, 19) + '+00:00',
    msec: seconds(epochMs),
    request: `${method} ${uri} ${protocol}`,
    request_method: method,
    request_uri: uri,
    uri: path,
    args,
    server_protocol: protocol,
    status: String(code),
    body_bytes_sent: String(bytes),
    bytes_sent: String(bytes + 200 + Math.floor(r() * 100)),
    request_length: String(60 + Math.floor(r() * 900)),
    request_time: seconds(requestTime + 1),
    http_referer: r() < 0.5 ? undefined : pick(r, REFERERS),
    http_user_agent: r() < 0.03 ? undefined : r() < 0.01 ? pick(r, ODD_USER_AGENTS) : pick(r, USER_AGENTS),
    http_x_forwarded_for: r() < 0.7 ? undefined : `${ipv4(r)}, ${ipv4(r)}`,
    host: pick(r, ['shop.example.com', 'api.example.com', 'www.example.com']),
    request_id: requestId,
    req_id: requestId,
    proxy_upstream_name: pick(r, ['shop-api-80', 'default-web-8080', 'payments-grpc-443']),
    proxy_alternative_upstream_name: '', // set but empty, as ingress-nginx writes it
    ...upstream,
  };
}

export interface GenerateOptions {
  /** A preset name (combined, upstreaminfo, json, ...) or a log_format body. */
  readonly format: string;
  /** Escaping when `format` is a body. Default: the preset's, or `default`. */
  readonly escape?: Escape;
  readonly count: number;
  readonly seed?: number;
  /** Epoch ms of the first line; lines are ~0-3 ms apart. */
  readonly startMs?: number;
}

/** `count` lines of the format, deterministic for a given seed. */
export function* generateLines(options: GenerateOptions): Generator<string> {
  const preset = findPreset(options.format);
  const write = nginxWriter(preset?.format ?? options.format, options.escape ?? preset?.escape ?? 'default');
  const r = seededRandom(options.seed ?? 1);
  let now = options.startMs ?? Date.UTC(2026, 10, 21, 23, 55, 28, 0);
  for (let i = 0; i < options.count; i++) {
    now += Math.floor(r() * 3);
    yield write(generateRequest(r, now));
  }
}
