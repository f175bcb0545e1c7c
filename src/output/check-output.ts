import type { Config } from '../config/types.ts';
import type { Verdict } from './check-verdict.ts';
import { checkRabbitmq } from './rabbitmq/check.ts';
import { checkRedis } from './redis/check.ts';

/** `check`'s verdicts for an output other than Kafka (whose are check-command.ts' own). */
export async function checkOutput(config: Config, out: Verdict[]): Promise<void> {
  if (config.output.type === 'rabbitmq') await checkRabbitmq(config.output.rabbitmq!, out);
  else if (config.output.type === 'redis') await checkRedis(config.output.redis!, out);
}
