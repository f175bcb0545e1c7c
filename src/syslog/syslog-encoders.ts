import { ConfigError } from '../config/load.ts';
import type { InputConfig } from '../config/types.ts';
import type { Routing } from '../encode/line-encoder.ts';
import type { LineParser } from '../parse/index.ts';
import type { LineSink } from '../tail/types.ts';
import type { SyslogEncoders } from './syslog-input.ts';

/**
 * A syslog input's encoders: the input's format for messages of any tag,
 * and one per tag listed under syslog.tags with its own format (and
 * topic), each compiled by the pipeline's own `route` (bad ones are a
 * configuration error before anything starts). `encoder` is told the
 * input (tag) settings each was compiled from: a reload recompiles them.
 */
export function syslogEncoders(
  input: InputConfig,
  index: number,
  route: (input: InputConfig) => { parser: LineParser; routing: Routing },
  encoder: (parser: LineParser, routing: Routing, routedAs: InputConfig) => LineSink,
): SyslogEncoders {
  if (input.syslog?.udp === undefined && input.syslog?.tcp === undefined) {
    throw new ConfigError(`inputs[${index}] (${input.name})`, [`inputs[${index}].syslog: give udp: host:port (what nginx sends), tcp: host:port (relays), or both`]);
  }
  const main = route(input);
  const byTag = new Map<string, LineSink>();
  for (const [tag, settings] of Object.entries(input.syslog?.tags ?? {})) {
    const tagInput: InputConfig = { ...input, format: settings.format, nginx_conf: settings.nginx_conf, format_name: settings.format_name, topic: settings.topic ?? input.topic };
    if (settings.format === undefined && settings.nginx_conf === undefined) {
      // Only a topic of its own: the input's format.
      Object.assign(tagInput, { format: input.format, nginx_conf: input.nginx_conf, format_name: input.format_name });
    }
    try {
      const { parser, routing } = route(tagInput);
      byTag.set(tag, encoder(parser, routing, tagInput));
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      throw new ConfigError(`inputs[${index}] (${input.name}) syslog.tags.${tag}`, problems);
    }
  }
  return { byTag, fallback: encoder(main.parser, main.routing, input) };
}
