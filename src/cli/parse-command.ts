/**
 * `logship parse`: try a log format on real lines. Reads access-log lines
 * on stdin, writes one JSON object per line on stdout, in order; a line that
 * does not match prints `{"_error": "...", "_raw": "..."}` in its place, so
 * output line N is always input line N. Exit 0 at EOF; exit 2 when the
 * format itself is unusable (unknown preset, missing log_format, unreadable
 * nginx.conf), with the reason on stderr.
 *
 * With --config, an input's format and its transforms: a record a filter
 * or the sampling drops prints `{"_dropped": "filter"}` (or "sample"), so
 * the line numbers still match; a bad transform setting exits 2.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import split2 from 'split2';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import { formatProblem } from '../config/format-problem.ts';
import { inputRouting } from '../pipeline.ts';
import type { Transforms } from '../transform/compile.ts';
import { compileLogFormat, FormatError, ParseError, presetNames, resolveFormat } from '../parse/index.ts';
import type { LineParser } from '../parse/index.ts';
import { EXIT_CONFIG, EXIT_OK } from './exit-codes.ts';

export interface ParseArgs {
  format?: string;
  'nginx-conf'?: string;
  name?: string;
  config?: string;
  input?: string;
}

const DROPPED = { records_filtered: '{"_dropped":"filter"}\n', records_sampled_out: '{"_dropped":"sample"}\n' } as const;

/** The format and transforms of one input of a configuration file (the only one, or the one named). */
function fromConfig(file: string, name: string | undefined): { parser: LineParser; transforms: Transforms | undefined } {
  const config = loadConfig(file);
  const index = name === undefined ? 0 : config.inputs.findIndex((input) => input.name === name);
  if (index === -1) throw new ConfigError(file, [`no input named ${JSON.stringify(name)}; inputs: ${config.inputs.map((input) => input.name).join(', ')}`]);
  if (name === undefined && config.inputs.length > 1) throw new ConfigError(file, [`${config.inputs.length} inputs: name one with --input (${config.inputs.map((input) => input.name).join(', ')})`]);
  const { parser, routing } = inputRouting(config.inputs[index]!, index, config);
  return { parser, transforms: routing.transforms };
}

/** Output is written in chunks of about this many characters (one write per line would dominate the cost). */
const CHUNK = 64 * 1024;

function compile(args: ParseArgs): LineParser {
  const resolved = resolveFormat({ format: args.format, nginxConf: args['nginx-conf'], name: args.name });
  return compileLogFormat(resolved);
}

/**
 * Streams `input` lines through `parser` to `output`. split2 splits on
 * newlines and decodes UTF-8 across chunk boundaries (invalid bytes become
 * U+FFFD, as in the tailer); writes wait for `drain` when the reader is slow.
 */
export async function parseStream(parser: LineParser, input: Readable, output: Writable, transforms?: Transforms): Promise<void> {
  let pending = '';
  const flush = async (): Promise<void> => {
    const chunk = pending;
    pending = '';
    if (!output.write(chunk)) await once(output, 'drain');
  };
  for await (const line of input.pipe(split2()) as AsyncIterable<string>) {
    const record = parser.parse(line);
    if (record instanceof ParseError) {
      const [raw, reason] = transforms === undefined ? [line, record.reason] : transforms.failed(line, record.reason);
      pending += JSON.stringify({ _error: reason, _raw: raw }) + '\n';
    } else {
      const shipped = transforms === undefined ? record : transforms.apply(record);
      pending += typeof shipped === 'string' ? DROPPED[shipped] : JSON.stringify(shipped) + '\n';
    }
    if (pending.length >= CHUNK) await flush();
  }
  if (pending.length > 0) await flush();
}

export const parseCommand: CommandModule<object, ParseArgs> = {
  command: 'parse',
  describe: 'Parse access-log lines from stdin with a log format; print one JSON object per line',
  builder: (yargs: Argv) =>
    yargs
      .option('format', {
        type: 'string',
        describe: `a preset (${presetNames().join(', ')}) or a log_format string, as in nginx.conf or bare`,
      })
      .option('nginx-conf', { type: 'string', describe: 'an nginx.conf to read the log_format from (includes followed)' })
      .option('name', { type: 'string', describe: 'the log_format name to read from --nginx-conf (default: combined)' })
      .option('config', { alias: 'c', type: 'string', describe: "a configuration file: an input's format and its transforms" })
      .option('input', { type: 'string', describe: 'the input of --config to use (default: the only one)' })
      .conflicts('format', 'nginx-conf')
      .conflicts('config', ['format', 'nginx-conf'])
      .example('$0 parse --format combined < access.log', 'parse with nginx\'s predefined format')
      .example('$0 parse --nginx-conf /etc/nginx/nginx.conf --name main < access.log', 'use the format nginx itself uses')
      .example(`$0 parse --format '$remote_addr [$time_local] "$request" $status' < access.log`, 'a format of your own')
      .example('$0 parse --config /etc/logship/logship.yaml --input nginx < access.log', "an input's format and transforms (filter, sample, privacy, ...)"),
  handler: async (args) => {
    let parser: LineParser;
    let transforms: Transforms | undefined;
    try {
      if (args.config !== undefined) ({ parser, transforms } = fromConfig(args.config, args.input));
      else if (args.format === undefined && args['nginx-conf'] === undefined) {
        throw new FormatError(`give --format (a preset: ${presetNames().join(', ')}, or a log_format string), --nginx-conf FILE --name NAME, or --config FILE`);
      } else parser = compile(args);
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`logship parse: ${error.message}\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      if (!(error instanceof FormatError)) throw error;
      process.stderr.write(`logship parse: ${formatProblem(error, args.format, '--format')}\n`);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    // A closed reader (`| head`) is not an error worth a stack trace.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT_OK);
      throw error;
    });
    await parseStream(parser, process.stdin, process.stdout, transforms);
    process.exitCode = EXIT_OK;
  },
};
