/**
 * The `combined+transforms` case of `npm run bench`: `combined` with the
 * transforms the target names (filter, sampling, IP anonymisation),
 * each evaluated on every line: the filter's conditions are a health check's
 * that this traffic never matches, and always_keep keeps every record the
 * sampling would drop. So the agent ships exactly the records of `combined`,
 * and the difference between the two is what the transforms cost, not what
 * shipping fewer records saves.
 */
import type { TransformsConfig } from '../src/config/types.ts';

const SUFFIX = '+transforms';

export const BENCH_TRANSFORMS: TransformsConfig = {
  filter: { drop_when: 'request_path == "/nginx_status" or http_user_agent ~ "^ELB-HealthChecker/"' },
  sample: { rate: 10, key: 'remote_addr', always_keep: 'status >= 100' },
  privacy: { ip: { mode: 'truncate', ipv4_prefix: 24, ipv6_prefix: 48 }, dead_letter_raw: 'redact' },
};

/** `combined+transforms` → `combined`: the format, whose generated file the case shares. */
export function baseFormat(format: string): string {
  return format.endsWith(SUFFIX) ? format.slice(0, -SUFFIX.length) : format;
}

export function benchTransforms(format: string): TransformsConfig | undefined {
  return format.endsWith(SUFFIX) ? BENCH_TRANSFORMS : undefined;
}
