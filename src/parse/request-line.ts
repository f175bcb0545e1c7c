/**
 * Splitting `$request` (the request line as the client sent it) into
 * `request_method`, `request_path`, `request_query`, `request_protocol`.
 *
 * Lines that are not `METHOD URI PROTOCOL` keep the parts they have:
 * `GET /` (HTTP/0.9) has no protocol; `hello` or an empty line has no part
 * at all (a method is nginx's token of upper-case letters, `_` and `-`,
 * anything else is not a request line). The URI is split at the first `?`:
 * `request_query` is null when there is no `?`, `""` when it is empty.
 */
import type { FieldValue } from './types.ts';

export const REQUEST_PARTS = ['request_method', 'request_path', 'request_query', 'request_protocol'] as const;

/**
 * Variables that, when the format has any of them, mean the format carries
 * the request's parts itself: `$request` is then not split, so a record
 * never holds two versions of the same fact.
 */
export const OWN_REQUEST_PARTS: ReadonlySet<string> = new Set([
  ...REQUEST_PARTS, 'request_uri', 'uri', 'document_uri', 'args', 'query_string', 'server_protocol',
]);

function isMethod(s: string, end: number): boolean {
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2d)) return false;
  }
  return true;
}

/** Writes the four parts of `request` into `out[at .. at+3]` (nulls for absent parts). */
export function splitRequestLine(request: FieldValue, out: FieldValue[], at: number): void {
  out[at] = null;
  out[at + 1] = null;
  out[at + 2] = null;
  out[at + 3] = null;
  if (typeof request !== 'string') return;
  const firstSpace = request.indexOf(' ');
  const methodEnd = firstSpace === -1 ? request.length : firstSpace;
  if (!isMethod(request, methodEnd)) return;
  out[at] = methodEnd === request.length ? request : request.slice(0, methodEnd);
  if (firstSpace === -1) return;
  let uriEnd = request.length;
  const lastSpace = request.lastIndexOf(' ');
  if (lastSpace > firstSpace && request.startsWith('HTTP/', lastSpace + 1)) {
    out[at + 3] = request.slice(lastSpace + 1);
    uriEnd = lastSpace;
  }
  const uriStart = firstSpace + 1;
  if (uriEnd <= uriStart) return;
  const q = request.indexOf('?', uriStart);
  if (q === -1 || q >= uriEnd) {
    out[at + 1] = request.slice(uriStart, uriEnd);
  } else {
    out[at + 1] = q === uriStart ? null : request.slice(uriStart, q);
    out[at + 2] = request.slice(q + 1, uriEnd);
  }
}
