/**
 * `logship tap`: sample messages as a running agent hands them to Kafka
 * (topic, key, headers, value), from its /tap endpoint (observe/tap.ts),
 * at most --rate a second, filtered by input, file and topic. One JSON
 * message per line; on a terminal, a header line and the value indented.
 */
import { get } from 'node:http';
import split2 from 'split2';
import type { CommandModule } from 'yargs';
import { ConfigError } from '../config/load.ts';
import { DEFAULT_TAP_RATE, MAX_TAP_RATE } from '../observe/tap.ts';
import { agentUrl, type AgentAddressArgs } from './agent-url.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface TapArgs extends AgentAddressArgs {
  rate: number;
  input?: string;
  file?: string;
  topic?: string;
}

interface TappedMessage {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: unknown;
}

/** A terminal's form: who and where on one line, then the value. */
function readable(line: string): string {
  const message = JSON.parse(line) as TappedMessage;
  const headers = Object.entries(message.headers).map(([name, value]) => `${name}=${value}`);
  const key = message.key === null ? '' : `  key=${message.key}`;
  return `── ${message.topic}${key}  ${headers.join('  ')}\n${JSON.stringify(message.value, null, 2)}\n`;
}

function fail(message: string, code: number): never {
  process.stderr.write(`logship tap: ${message}\n`);
  process.exit(code);
}

export const tapCommand: CommandModule<object, TapArgs> = {
  command: 'tap',
  describe: 'Print sample messages as a running agent sends them to Kafka (topic, key, headers, value)',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (the one the agent runs with): its metrics.listen' })
      .option('url', { type: 'string', describe: "The agent's address, http://host:port, instead of the configuration" })
      .option('rate', { type: 'number', default: DEFAULT_TAP_RATE, describe: `Most messages a second (up to ${MAX_TAP_RATE})` })
      .option('input', { type: 'string', describe: "Only this input's messages" })
      .option('file', { type: 'string', describe: 'Only messages from files whose path matches this glob, or contains this text' })
      .option('topic', { type: 'string', describe: 'Only messages to this topic' })
      .check((argv) => {
        if (!argv.config && !argv.url) throw new Error('give --config FILE (or --url http://host:port)');
        if (!(argv.rate > 0 && argv.rate <= MAX_TAP_RATE)) throw new Error(`--rate ${argv.rate}: give a number of messages a second, above 0 and at most ${MAX_TAP_RATE}`);
        return true;
      }),
  handler: (argv) => {
    let url: URL;
    try {
      url = agentUrl(argv, '/tap');
    } catch (err) {
      fail((err as Error).message, err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    url.searchParams.set('rate', String(argv.rate));
    for (const filter of ['input', 'file', 'topic'] as const) if (argv[filter] !== undefined) url.searchParams.set(filter, argv[filter]);
    const terminal = process.stdout.isTTY === true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT_OK : EXIT_FAILURE));
    const req = get(url, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        // 403 (tap off there) and 400 (a bad filter) need a change first; anything else may pass.
        res.on('end', () => fail(`${url.origin}: ${res.statusCode} ${body.trim()}`, res.statusCode === 403 || res.statusCode === 400 ? EXIT_CONFIG : EXIT_FAILURE));
        return;
      }
      if (terminal) process.stderr.write(`tapping ${url.origin}: at most ${argv.rate} messages a second; Ctrl-C stops\n`);
      res
        .pipe(split2())
        .on('data', (line: string) => process.stdout.write(terminal ? readable(line) : `${line}\n`))
        .on('end', () => fail('the agent ended the session (stopping?)', EXIT_OK));
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(`${url.origin}: no answer (${err.code ?? err.message})`, EXIT_FAILURE));
  },
};
