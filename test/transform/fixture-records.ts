/**
 * The real nginx fixtures (test/fixtures/nginx) read as the agent reads
 * them, and an input's transforms compiled the way `run` compiles them
 * (loadConfig's validation and defaults, then inputRouting).
 */
import { readFileSync } from 'node:fs';
import { buildConfig } from '../../src/config/load.ts';
import type { TransformsConfig } from '../../src/config/types.ts';
import { inputRouting } from '../../src/pipeline.ts';
import { ParseError, type LineParser, type LogRecord } from '../../src/parse/index.ts';
import type { Transforms } from '../../src/transform/compile.ts';

const fixtures = new URL('../fixtures/nginx/', import.meta.url);
export const JSON_CONF = new URL('json_nginx.conf', fixtures).pathname;

/** Lines of a fixture, decoded as the tailer does: UTF-8, invalid bytes as U+FFFD. */
export function fixtureLines(file: string): string[] {
  const lines = new TextDecoder('utf-8').decode(readFileSync(new URL(file, fixtures))).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** How an input reads its lines: a preset or format string, or a log_format of json_nginx.conf. */
export type FormatOf = { format: string } | { nginx_conf: string; format_name: string };

export interface Compiled {
  parser: LineParser;
  transforms: Transforms;
}

/** `transforms` for an input of `format`, validated and defaulted by the schema, compiled as the agent does; throws its ConfigError. */
export function compile(format: FormatOf, transforms: unknown, env: NodeJS.ProcessEnv = {}, kafka: Record<string, unknown> = {}): Compiled {
  const config = buildConfig({ inputs: [{ name: 'web', paths: ['/var/log/nginx/access.log'], ...format, transforms }], kafka: { brokers: ['127.0.0.1:9092'], topic: 'logs', ...kafka } }, {}, 'test.yaml', env);
  const { parser, routing } = inputRouting(config.inputs[0]!, 0, config, env);
  if (routing.transforms === undefined) throw new Error('no transforms compiled');
  return { parser, transforms: routing.transforms };
}

/** Each line parsed and transformed: the record shipped, or why not. */
export function run({ parser, transforms }: Compiled, lines: readonly string[]): (LogRecord | 'records_filtered' | 'records_sampled_out')[] {
  return lines.map((line) => {
    const record = parser.parse(line);
    if (record instanceof ParseError) throw new Error(`fixture line does not parse: ${record.reason}: ${line}`);
    return transforms.apply(record);
  });
}

/** The parsed records of a fixture, untransformed. */
export function parsed(parser: LineParser, lines: readonly string[]): LogRecord[] {
  return lines.map((line) => {
    const record = parser.parse(line);
    if (record instanceof ParseError) throw new Error(`fixture line does not parse: ${record.reason}`);
    return record;
  });
}

export type { TransformsConfig };
