/**
 * `logship check`: validate the configuration, then try what the agent
 * will need (log formats, files, state dir, brokers, topics) and print a
 * verdict per item. Exit codes as `run`'s (exit-codes.ts): 0 all good;
 * 2 a problem `run` would refuse to start with (the configuration, a
 * format, a template, SASL or TLS settings, the state dir); 1 only problems
 * that may pass (Kafka unreachable, a topic missing, files unreadable).
 */
import { accessSync, constants } from 'node:fs';
import { glob } from 'node:fs/promises';
import type { Admin } from 'kafkajs';
import type { CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { describeKafkaError } from '../kafka/describe-error.ts';
import { checkOutput } from '../output/check-output.ts';
import { inputRouting } from '../pipeline.ts';
import { configOptions, overridesOf, type ConfigArgs } from './config-options.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { firstContactClient, silentBrokers } from './kafka-first-contact.ts';
import { stateDirProblems } from './state-dirs.ts';

interface Verdict {
  ok: boolean;
  item: string;
  detail: string;
  /** A problem `run` refuses to start with: a retry will not fix it. */
  fix?: boolean;
}

/** A ConfigError's problems (it names the setting), else the message. */
function detailOf(err: unknown): string {
  return err instanceof ConfigError ? err.problems.join('; ') : (err as Error).message;
}

async function checkInputs(config: Config, out: Verdict[]): Promise<void> {
  for (const [index, input] of config.inputs.entries()) {
    const item = `input ${input.name}`;
    try {
      const { parser, routing } = inputRouting(input, index, config);
      out.push({ ok: true, item, detail: `log format compiles (${parser.fields.length} fields); topic ${routing.topic.constant ?? '(template, per record)'}` });
    } catch (err) {
      out.push({ ok: false, item, detail: detailOf(err), fix: err instanceof ConfigError });
    }
    if (input.type === 'syslog') {
      out.push({ ok: true, item, detail: `receives syslog on ${[input.syslog?.udp && `udp ${input.syslog.udp}`, input.syslog?.tcp && `tcp ${input.syslog.tcp}`].filter(Boolean).join(' and ')} (no files)` });
      continue;
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

function checkStateDirs(config: Config, out: Verdict[]): void {
  for (const { setting, dir, problem } of stateDirProblems(config)) {
    out.push(problem === undefined ? { ok: true, item: `${setting} ${dir}`, detail: 'writable' } : { ok: false, item: `${setting} ${dir}`, detail: problem, fix: true });
  }
}

async function checkTopics(config: Config, admin: Admin, out: Verdict[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const topics = [...new Set([config.kafka.topic, ...config.inputs.map((i) => i.topic).filter((t): t is string => t !== undefined), config.kafka.dead_letter_topic])];
  for (const topic of topics) {
    if (topic.includes('{{')) out.push({ ok: true, item: `topic ${topic}`, detail: 'a template: the topics it names are checked as records come' });
    else if (existing.has(topic)) out.push({ ok: true, item: `topic ${topic}`, detail: 'exists' });
    else out.push({ ok: false, item: `topic ${topic}`, detail: 'does not exist: create it, unless the brokers create topics (auto.create.topics.enable)' });
  }
}

async function checkKafka(config: Config, out: Verdict[]): Promise<void> {
  const { kafka } = config;
  const item = `kafka ${kafka.brokers.join(',')}`;
  let admin: Admin;
  try {
    admin = firstContactClient(kafka).admin();
  } catch (err) {
    // SASL or TLS settings that cannot be used (a variable not set, a file missing): the error's source is the setting.
    const detail = err instanceof ConfigError ? err.problems.map((p) => `${err.source}: ${p}`).join('; ') : (err as Error).message;
    out.push({ ok: false, item, detail, fix: err instanceof ConfigError });
    return;
  }
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    out.push({ ok: true, item, detail: `reachable: ${cluster.brokers.length} broker(s), cluster ${cluster.clusterId}` });
    await checkTopics(config, admin, out);
  } catch (err) {
    const silent = await silentBrokers(err, kafka);
    out.push({ ok: false, item, detail: silent?.message ?? describeKafkaError(err, { brokers: kafka.brokers, topics: [kafka.topic] }).message });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export const checkCommand: CommandModule<object, ConfigArgs> = {
  command: 'check',
  describe: 'Validate the configuration, then try the log formats, files, state dir, brokers and topics',
  builder: (y) => configOptions(y),
  handler: async (argv) => {
    let config: Config;
    try {
      config = loadConfig(argv.config, overridesOf(argv));
    } catch (err) {
      process.stdout.write(`✘ configuration: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    const verdicts: Verdict[] = [{ ok: true, item: 'configuration', detail: `${argv.config ?? 'command line'}: valid, ${config.inputs.length} input(s)` }];
    await checkInputs(config, verdicts);
    checkStateDirs(config, verdicts);
    try {
      if (config.output.type === 'kafka') await checkKafka(config, verdicts);
      else await checkOutput(config, verdicts);
    } catch (err) {
      verdicts.push({ ok: false, item: config.output.type, detail: (err as Error).message });
    }
    for (const v of verdicts) process.stdout.write(`${v.ok ? '✔' : '✘'} ${v.item}: ${v.detail}\n`);
    const problems = verdicts.filter((v) => !v.ok).length;
    const fixes = verdicts.filter((v) => v.fix).length;
    process.stdout.write(problems === 0 ? 'verdict: ready to run\n' : `verdict: ${problems} problem(s)${fixes > 0 ? `, ${fixes} that run would refuse to start with` : ''}\n`);
    process.exit(fixes > 0 ? EXIT_CONFIG : problems > 0 ? EXIT_FAILURE : EXIT_OK);
  },
};
