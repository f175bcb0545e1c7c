/**
 * `logship check`: validate the configuration, then try what the agent
 * will need (log formats, files, state dir, brokers, topics) and print a
 * verdict per item. Exit 0: all good; 1: something will not work; 2: the
 * configuration itself is invalid.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { glob } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { clientSecurity } from '../kafka/client-security.ts';
import { describeKafkaError } from '../kafka/describe-error.ts';
import { inputRouting } from '../pipeline.ts';
import { configOptions } from './config-options.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface Verdict {
  ok: boolean;
  item: string;
  detail: string;
}

async function checkInputs(config: Config, out: Verdict[]): Promise<void> {
  for (const [index, input] of config.inputs.entries()) {
    const item = `input ${input.name}`;
    try {
      const { parser, routing } = inputRouting(input, index, config.kafka);
      out.push({ ok: true, item, detail: `log format compiles (${parser.fields.length} fields); topic ${routing.topic.constant ?? '(template, per record)'}` });
    } catch (err) {
      out.push({ ok: false, item, detail: (err as Error).message });
    }
    const files: string[] = [];
    for await (const file of glob(input.paths, { exclude: input.exclude })) files.push(file);
    const unreadable = files.filter((file) => {
      try {
        accessSync(file, constants.R_OK);
        return false;
      } catch {
        return true;
      }
    });
    if (files.length === 0) out.push({ ok: true, item, detail: `no file matches ${input.paths.join(', ')} yet (followed when one appears)` });
    else if (unreadable.length > 0) out.push({ ok: false, item, detail: `cannot read ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}: check permissions (group adm on Debian)` });
    else out.push({ ok: true, item, detail: `${files.length} file(s) match, all readable` });
  }
}

function checkStateDir(config: Config, out: Verdict[]): void {
  try {
    mkdirSync(config.state_dir, { recursive: true });
    accessSync(config.state_dir, constants.W_OK);
    out.push({ ok: true, item: `state_dir ${config.state_dir}`, detail: 'writable' });
  } catch (err) {
    out.push({ ok: false, item: `state_dir ${config.state_dir}`, detail: `not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
}

async function checkKafka(config: Config, out: Verdict[]): Promise<void> {
  const { kafka } = config;
  const item = `kafka ${kafka.brokers.join(',')}`;
  const admin = new Kafka({
    clientId: kafka.client_id,
    brokers: kafka.brokers,
    ...clientSecurity(kafka),
    connectionTimeout: Math.min(kafka.connection_timeout_ms, 5000),
    retry: { retries: 1 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    out.push({ ok: true, item, detail: `reachable: ${cluster.brokers.length} broker(s), cluster ${cluster.clusterId}` });
    const existing = new Set(await admin.listTopics());
    const topics = [...new Set([kafka.topic, ...config.inputs.map((i) => i.topic).filter((t): t is string => t !== undefined), kafka.dead_letter_topic])];
    for (const topic of topics) {
      if (topic.includes('{{')) out.push({ ok: true, item: `topic ${topic}`, detail: 'a template: the topics it names are checked as records come' });
      else if (existing.has(topic)) out.push({ ok: true, item: `topic ${topic}`, detail: 'exists' });
      else out.push({ ok: false, item: `topic ${topic}`, detail: 'does not exist: create it, unless the brokers create topics (auto.create.topics.enable)' });
    }
  } catch (err) {
    out.push({ ok: false, item, detail: describeKafkaError(err, { brokers: kafka.brokers, topics: [kafka.topic] }).message });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

interface CheckArgs {
  config?: string;
  path?: string[];
  format?: string;
  brokers?: string[];
  topic?: string;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Validate the configuration, then try the log formats, files, state dir, brokers and topics',
  builder: (y) => configOptions(y),
  handler: async (argv) => {
    let config: Config;
    try {
      config = loadConfig(argv.config, { paths: argv.path, format: argv.format, brokers: argv.brokers, topic: argv.topic });
    } catch (err) {
      process.stdout.write(`✘ configuration: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    const verdicts: Verdict[] = [{ ok: true, item: 'configuration', detail: `${argv.config ?? 'command line'}: valid, ${config.inputs.length} input(s)` }];
    await checkInputs(config, verdicts);
    checkStateDir(config, verdicts);
    try {
      await checkKafka(config, verdicts);
    } catch (err) {
      verdicts.push({ ok: false, item: 'kafka', detail: (err as Error).message });
    }
    for (const v of verdicts) process.stdout.write(`${v.ok ? '✔' : '✘'} ${v.item}: ${v.detail}\n`);
    const problems = verdicts.filter((v) => !v.ok).length;
    process.stdout.write(problems === 0 ? 'verdict: ready to run\n' : `verdict: ${problems} problem(s)\n`);
    process.exit(problems === 0 ? EXIT_OK : EXIT_FAILURE);
  },
};
