import type { FileSource } from '../tail/types.ts';
import { HOST_HEADER, PATH_HEADER } from './record-json.ts';

/**
 * The Kafka headers besides the record id that carry a file's source, by
 * `transforms.fields.source`: host and path (both: the record holds the
 * whole source too), none (body), or every source field (headers:
 * `logship-host`, `logship-path`, `logship-input`, and in Kubernetes
 * `logship-namespace`, `logship-pod`, `logship-container`, `logship-container-id`).
 */
export function sourceHeaders(file: FileSource, placement: 'body' | 'headers' | 'both'): [string, string][] {
  if (placement === 'body') return [];
  const headers: [string, string][] = [
    [HOST_HEADER, file.source.host ?? ''],
    [PATH_HEADER, file.path],
  ];
  if (placement === 'headers') {
    for (const [key, value] of Object.entries(file.source)) if (key !== 'host' && key !== 'path') headers.push([`logship-${key.replace(/_/g, '-')}`, value]);
  }
  return headers;
}
