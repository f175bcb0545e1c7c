/**
 * The patterns of settings that are text with a shape (addresses, topic
 * names), each with what it means in words: the schema checks the pattern,
 * errors say the words (an operator should not have to read a regular
 * expression).
 */

/** A size as bytes-iec parses it (units.ts): B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (of 1024), any case. */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)? *([kKmMgGtT][iI]?)?[bB]$';

/** A duration as `ms` parses it (units.ts), the short units only: ms, s, m, h, d. */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)? *(ms|s|m|h|d)$';

/** 1-65535, as a regular expression (JSON Schema has no numeric check inside a string). */
const PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

/** `host:port` of a Kafka broker. */
export const BROKER_ADDRESS = `^[^\\s:]+:${PORT}$`;

/** `host:port` to listen on; `[v6]:port`; port 0 picks a free one. */
export const LISTEN_ADDRESS = `^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):(0|${PORT})$`;

/** Kafka's rule for topic names (kafka.common.internals.Topic): legal characters, at most 249, not "." or "..". */
const TOPIC = '(?!\\.\\.?$)[a-zA-Z0-9._-]{1,249}';

/** A topic name. */
export const TOPIC_NAME = `^${TOPIC}$`;

/** A topic name, or a template (`{{ field }}`), whose names are known only per record. */
export const TOPIC_NAME_OR_TEMPLATE = `^(.*\\{\\{.*|${TOPIC})$`;

/** Kafka's rule in words, for messages about topic names (also those rendered at run time). */
export const TOPIC_NAME_RULE = 'Kafka allows the characters a-z A-Z 0-9 . _ -, 1 to 249 of them, and not "." or ".." alone';

/** What each pattern asks for, in the words of an error message ("<setting>: <words> (got ...)"). */
export const PATTERN_MEANING: Readonly<Record<string, string>> = {
  [BROKER_ADDRESS]: 'must be host:port (a port 1-65535), e.g. kafka-1:9092',
  [LISTEN_ADDRESS]: 'must be host:port (a port 0-65535; an IPv6 address in brackets, [::1]:9598), e.g. 127.0.0.1:9598',
  [TOPIC_NAME]: `illegal Kafka topic name: ${TOPIC_NAME_RULE}`,
  [TOPIC_NAME_OR_TEMPLATE]: `illegal Kafka topic name: ${TOPIC_NAME_RULE}; or a template with {{ field }}`,
};

const topicName = new RegExp(TOPIC_NAME);

/** Whether Kafka takes `name` as a topic name. */
export function isLegalTopicName(name: string): boolean {
  return topicName.test(name);
}
