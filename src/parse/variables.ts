/**
 * The shape of nginx's variables: what a value of `$name` can look like in a
 * log line. The compiler uses it twice: to split a line where the format's
 * literals alone are ambiguous (a value that cannot hold a space ends at the
 * first space), and to type the value (integer, float, list, string).
 *
 * Unknown variables (map/set/geo variables, third-party modules) are `text`:
 * a string that may hold anything, which is always safe to split because the
 * format's literals then decide, with look-ahead where they are ambiguous.
 */

/** How a variable's value is shaped. Numbers so the hot path switches on small integers. */
export const Kind = {
  /** Any string; may contain spaces (header values, URIs, `$remote_user`, unknown variables). */
  text: 0,
  /** A string that never contains a space (addresses, ids, scheme, protocol...). */
  token: 1,
  /** A non-negative integer written by nginx (`-` when absent). */
  int: 2,
  /** A decimal written by nginx, e.g. `0.004` (`-` when absent). */
  float: 3,
  /** `$time_local`: `21/Nov/2026:23:55:28 +0000`, always 26 characters. */
  timeLocal: 4,
  /** `$time_iso8601`: `2026-11-21T23:55:28+00:00`, always 25 characters. */
  timeIso8601: 5,
  /** Upstream list of strings: items joined by `, ` (tries) and ` : ` (upstream groups). */
  listText: 6,
  /** Upstream list of integers (`-` items are null). */
  listInt: 7,
  /** Upstream list of decimals (`-` items are null). */
  listFloat: 8,
  /**
   * A client-supplied value that is usually an integer (`$content_length`):
   * typed as an integer when it is one, kept as a string otherwise.
   */
  intLoose: 9,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const byName: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  // Integers nginx computes itself.
  ['status', Kind.int],
  ['body_bytes_sent', Kind.int],
  ['bytes_sent', Kind.int],
  ['request_length', Kind.int],
  ['connection', Kind.int],
  ['connection_requests', Kind.int],
  ['connections_active', Kind.int],
  ['connections_reading', Kind.int],
  ['connections_writing', Kind.int],
  ['connections_waiting', Kind.int],
  ['server_port', Kind.int],
  ['remote_port', Kind.int],
  ['realip_remote_port', Kind.int],
  ['proxy_protocol_port', Kind.int],
  ['proxy_protocol_server_port', Kind.int],
  ['proxy_port', Kind.int],
  ['pid', Kind.int],
  ['limit_rate', Kind.int],
  ['tcpinfo_rtt', Kind.int],
  ['tcpinfo_rttvar', Kind.int],
  ['tcpinfo_snd_cwnd', Kind.int],
  ['tcpinfo_rcv_space', Kind.int],
  ['content_length', Kind.intLoose],
  // Decimals.
  ['request_time', Kind.float],
  ['msec', Kind.float],
  ['gzip_ratio', Kind.float],
  ['session_time', Kind.float],
  // Times.
  ['time_local', Kind.timeLocal],
  ['time_iso8601', Kind.timeIso8601],
  // Upstream lists: one item per try, `, ` between tries, ` : ` between groups.
  ['upstream_addr', Kind.listText],
  ['upstream_status', Kind.listInt],
  ['upstream_response_length', Kind.listInt],
  ['upstream_bytes_received', Kind.listInt],
  ['upstream_bytes_sent', Kind.listInt],
  ['upstream_response_time', Kind.listFloat],
  ['upstream_connect_time', Kind.listFloat],
  ['upstream_header_time', Kind.listFloat],
  ['upstream_queue_time', Kind.listFloat],
  ['upstream_first_byte_time', Kind.listFloat],
  ['upstream_session_time', Kind.listFloat],
  // Strings that never hold a space.
  ['remote_addr', Kind.token],
  ['realip_remote_addr', Kind.token],
  ['proxy_protocol_addr', Kind.token],
  ['proxy_protocol_server_addr', Kind.token],
  ['server_addr', Kind.token],
  ['server_name', Kind.token],
  ['host', Kind.token],
  ['hostname', Kind.token],
  ['scheme', Kind.token],
  ['https', Kind.token],
  ['request_method', Kind.token],
  ['server_protocol', Kind.token],
  ['request_id', Kind.token],
  ['pipe', Kind.token],
  ['nginx_version', Kind.token],
  ['request_completion', Kind.token],
  ['ssl_protocol', Kind.token],
  ['ssl_cipher', Kind.token],
  ['ssl_curve', Kind.token],
  ['ssl_session_id', Kind.token],
  ['ssl_session_reused', Kind.token],
  ['ssl_server_name', Kind.token],
  ['ssl_early_data', Kind.token],
  ['upstream_cache_status', Kind.token],
  // ingress-nginx's own variables.
  ['proxy_upstream_name', Kind.token],
  ['proxy_alternative_upstream_name', Kind.token],
  ['req_id', Kind.token],
  ['namespace', Kind.token],
  ['ingress_name', Kind.token],
  ['service_name', Kind.token],
  ['service_port', Kind.token],
]);

/** The shape of `$name` (name without `$`, lower case). Unknown names are `text`. */
export function variableKind(name: string): Kind {
  // Header, cookie and argument variables hold whatever the client or
  // upstream sent: free text, whatever the suffix says.
  return byName.get(name) ?? Kind.text;
}

/** Whether a value of this kind can contain a space (so a space cannot end it). */
export function kindHoldsSpace(kind: Kind): boolean {
  return kind === Kind.text || kind === Kind.timeLocal || kind === Kind.intLoose || isListKind(kind);
}

export function isListKind(kind: Kind): boolean {
  return kind === Kind.listText || kind === Kind.listInt || kind === Kind.listFloat;
}

/** Kinds whose text form has a fixed length; returns 0 for the others. */
export function fixedWidth(kind: Kind): number {
  if (kind === Kind.timeLocal) return 26;
  if (kind === Kind.timeIso8601) return 25;
  return 0;
}

/** What a value of `kind` looks like, for ParseError reasons. */
export function describeKind(kind: Kind): string {
  switch (kind) {
    case Kind.int: return 'an integer';
    case Kind.float: return 'a decimal number';
    case Kind.token: return 'a value without spaces';
    case Kind.timeLocal: return 'a $time_local time (dd/Mon/yyyy:hh:mm:ss +zzzz)';
    case Kind.timeIso8601: return 'an ISO 8601 time';
    case Kind.listInt: return 'an upstream list of integers';
    case Kind.listFloat: return 'an upstream list of decimals';
    case Kind.listText: return 'an upstream list';
    default: return 'a value of this format';
  }
}

/** nginx's own variables that hold free text (the typed ones are in `byName`). */
const TEXT_VARIABLES: ReadonlySet<string> = new Set([
  'remote_user', 'request', 'request_uri', 'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_body',
  'request_filename', 'document_root', 'realpath_root', 'content_type', 'binary_remote_addr', 'connection_time',
  'invalid_referer', 'limit_req_status', 'limit_conn_status', 'secure_link', 'uid_got', 'uid_set', 'realip_remote_addr',
]);

/** Families of variables named after a header, cookie, argument or TLS property. */
const VARIABLE_PREFIXES = ['http_', 'sent_http_', 'sent_trailer_', 'cookie_', 'arg_', 'upstream_', 'ssl_', 'proxy_protocol_', 'geoip_', 'geoip2_'];

/**
 * Whether `name` is an nginx variable (core, common modules or a header /
 * cookie / argument family): the key of a JSON log named like one is read as
 * that variable when no log_format says otherwise.
 */
export function isNginxVariable(name: string): boolean {
  return byName.has(name) || TEXT_VARIABLES.has(name) || VARIABLE_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length);
}
