/**
 * What ioredis throws, as one line an operator can act on and a kind for
 * logship_errors_total: the same kinds as Kafka's (src/kafka/describe-error.ts).
 */
import type { KafkaErrorKind } from '../../kafka/describe-error.ts';

interface ErrorLike {
  message?: string;
  code?: string;
  cause?: unknown;
}

function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (let e: unknown = err; e && typeof e === 'object' && out.length < 8; e = (e as ErrorLike).cause) out.push(e as ErrorLike);
  return out;
}

export function describeRedisError(err: unknown, context: { server: string; topics: string[] }): { kind: KafkaErrorKind; message: string } {
  const errors = chain(err);
  const at = `Redis at ${context.server}`;
  const text = (test: RegExp) => errors.find((e) => test.test(e.message ?? ''));
  const auth = text(/^(WRONGPASS|NOAUTH)|invalid username-password|invalid password/i);
  if (auth) return { kind: 'auth', message: `${at} rejected the credentials (${auth.message}): check output.redis.username and the password` };
  const perm = text(/^NOPERM/);
  if (perm) return { kind: 'auth', message: `${at}: the user may not write there (${perm.message}): grant it XADD on the streams (ACL SETUSER ... +xadd ~<streams>)` };
  const tls = errors.find((e) => typeof e.code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code));
  if (tls) return { kind: 'tls', message: `TLS handshake with ${at} failed (${tls.code}: ${tls.message}): check output.redis.tls (ca_file, server_name, client certificate)` };
  const wrongType = text(/^WRONGTYPE/);
  if (wrongType) return { kind: 'invalid_topic', message: `${at}: a key records go to is not a stream (${wrongType.message}): ${context.topics.join(', ')}` };
  const oom = text(/^OOM/);
  if (oom) return { kind: 'other', message: `${at} is out of memory (${oom.message}): raise maxmemory, or trim the streams (output.redis.maxlen)` };
  const readonly = text(/^READONLY/);
  if (readonly) return { kind: 'other', message: `${at} is a read-only replica (${readonly.message}): point output.redis.url at the primary` };
  const down = errors.find((e) => e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ECONNRESET' || e.code === 'EPIPE') ?? text(/Connection is closed|isn't writeable|^LOADING/);
  if (down) return { kind: 'unreachable', message: `cannot reach ${at} (${down.message})` };
  const timeout = errors.find((e) => e.code === 'ETIMEDOUT') ?? text(/timed out|timeout/i);
  if (timeout) return { kind: 'timeout', message: `${at} did not answer in time (${timeout.message})` };
  return { kind: 'other', message: `writing to ${at} failed: ${errors[errors.length - 1]?.message ?? String(err)}` };
}
