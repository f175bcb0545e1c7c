import { rmSync } from 'node:fs';
import type { LocalKafka } from '../scripts/kafka/local-kafka.ts';
import type { InstalledAgent } from './installed-agent.ts';

/** What a one-agent bench starts: its agent killed and its directory removed whatever ends it (the broker stops in runBench). */
export class BenchResources {
  agent: InstalledAgent | undefined;
  kafka: LocalKafka | undefined;
  dir: string | undefined;

  readonly cleanUpSync = (): void => {
    this.agent?.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  };
}

/**
 * Runs a bench's main(): whatever ends it (done, an error, Ctrl-C, SIGTERM),
 * `cleanUpSync` kills its children and removes its files, and the broker it
 * started (`kafka()`, if any) stops.
 */
export async function runBench(main: () => Promise<void>, cleanUpSync: () => void, kafka: () => LocalKafka | undefined): Promise<void> {
  process.on('exit', cleanUpSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}: stopping what it started and the broker`);
      cleanUpSync();
      void (kafka()?.stop(5000) ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  try {
    await main();
    cleanUpSync();
    await kafka()?.stop();
  } catch (err) {
    console.error(err);
    cleanUpSync();
    await kafka()
      ?.stop(5000)
      .catch(() => undefined);
    process.exit(1);
  }
}
