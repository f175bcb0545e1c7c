/**
 * Formats operators use without writing them: `--format combined`.
 * Each is the exact `log_format` body of its origin, with its escaping.
 */
import type { Escape } from './escape.ts';

export interface Preset {
  readonly format: string;
  readonly escape: Escape;
  /** Where the format comes from, for `--help` and error messages. */
  readonly description: string;
  /**
   * A JSON log of any keys: the format names the usual ones, but every key
   * of a line is read by its name (see json-line.ts), none is required.
   */
  readonly byKeyName?: boolean;
}

const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/**
 * The usual keys of a JSON access log, equal to the variable names, as in
 * the record. The JSON presets read any JSON object per line: these keys
 * and any other, in any order, each typed by its name.
 */
const JSON_BODY =
  '{"msec":"$msec","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request",' +
  '"status":"$status","body_bytes_sent":"$body_bytes_sent","request_time":"$request_time",' +
  '"http_referer":"$http_referer","http_user_agent":"$http_user_agent","http_x_forwarded_for":"$http_x_forwarded_for",' +
  '"host":"$host","request_id":"$request_id","upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",' +
  '"upstream_response_time":"$upstream_response_time"}';

export const PRESETS: Readonly<Record<string, Preset>> = {
  combined: {
    format: COMBINED,
    escape: 'default',
    description: "nginx's predefined combined format",
  },
  common: {
    format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
    escape: 'default',
    description: 'the Common Log Format (combined without referer and user agent)',
  },
  main: {
    format: COMBINED + ' "$http_x_forwarded_for"',
    escape: 'default',
    description: 'the distributions\' default main: combined + "$http_x_forwarded_for"',
  },
  upstreaminfo: {
    format:
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
      '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr ' +
      '$upstream_response_length $upstream_response_time $upstream_status $req_id',
    escape: 'default',
    description: "ingress-nginx's default log format",
  },
  json: {
    format: JSON_BODY,
    escape: 'json',
    description: 'a JSON access log written with escape=json: any keys, typed by the nginx variable they are named after',
    byKeyName: true,
  },
  json_default: {
    format: JSON_BODY,
    escape: 'default',
    description: 'the same JSON access log written without escape=json (nginx before 1.11.8: \\xHH inside the JSON)',
    byKeyName: true,
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function findPreset(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
}
