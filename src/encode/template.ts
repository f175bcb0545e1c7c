import type { OutputType } from '../config/types.ts';
import type { FieldValue, LogRecord } from '../parse/types.ts';

/**
 * `{{ field }}` and `{{ source.field }}` templates for the topic and the
 * key. Compiled once; a field the format or the source cannot have is an
 * error at start-up (not at 3 a.m.).
 */
export interface Template {
  /** The rendered text when the template has no field. */
  readonly constant: string | undefined;
  render(record: LogRecord, source: Readonly<Record<string, string>>): string;
}

const FIELD = /\{\{\s*([^{}\s]+)\s*\}\}/g;

function text(value: FieldValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** `openRecord`: the records may hold keys beyond `record` (a JSON log read by key name), so any record field is accepted. */
export function compileTemplate(template: string, known: { record: readonly string[]; source: readonly string[]; openRecord?: boolean }, where: string): Template {
  const literals: string[] = [];
  const fields: { fromSource: boolean; name: string }[] = [];
  let last = 0;
  for (const match of template.matchAll(FIELD)) {
    literals.push(template.slice(last, match.index));
    const ref = match[1]!;
    const fromSource = ref.startsWith('source.');
    const name = fromSource ? ref.slice('source.'.length) : ref;
    const allowed = fromSource ? known.source : known.record;
    if (!allowed.includes(name) && !(known.openRecord === true && !fromSource)) {
      const choices = fromSource ? known.source.map((n) => `source.${n}`) : known.record;
      throw new TemplateError(`${where}: "{{ ${ref} }}" in "${template}" is not a field of ${fromSource ? 'the source' : 'the log format'}; known: ${choices.join(', ')}`);
    }
    fields.push({ fromSource, name });
    last = match.index + match[0].length;
  }
  const tail = template.slice(last);
  if (tail.includes('{{') || tail.includes('}}')) throw new TemplateError(`${where}: unbalanced "{{ }}" in "${template}"`);
  literals.push(tail);
  if (fields.length === 0) return { constant: template, render: () => template };
  return {
    constant: undefined,
    render(record, source) {
      let out = literals[0]!;
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i]!;
        out += (field.fromSource ? (source[field.name] ?? '') : text(record[field.name])) + literals[i + 1]!;
      }
      return out;
    },
  };
}

/** Kafka topic names: [a-zA-Z0-9._-], at most 249 characters. Other characters become `_`. */
export function topicName(rendered: string): string {
  const safe = rendered.replace(/[^a-zA-Z0-9._-]/g, '_');
  return safe.length > 249 ? safe.slice(0, 249) : safe;
}

/** A RabbitMQ routing key is at most 255 bytes (AMQP's short string); any characters. */
function routingKey(rendered: string): string {
  return Buffer.byteLength(rendered) <= 255 ? rendered : Buffer.from(rendered).subarray(0, 255).toString('utf8').replace(/\uFFFD$/, '');
}

/** A Redis key can be any string. */
const asRendered = (rendered: string): string => rendered;

/** How a rendered topic template becomes a name the output takes: a Kafka topic, a RabbitMQ routing key, a Redis stream. */
export function destinationName(output: OutputType): (rendered: string) => string {
  return output === 'kafka' ? topicName : output === 'rabbitmq' ? routingKey : asRendered;
}
