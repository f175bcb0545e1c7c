import type { InputConfig, KafkaConfig } from '../config/types.ts';
import type { LineParser } from '../parse/types.ts';
import { compileTransforms, type Transforms } from './compile.ts';
import { TransformError } from './transform-error.ts';

/** An input's transforms compiled for its parser, checked against the Kafka settings they depend on. */
export function transformsOf(input: InputConfig, index: number, parser: LineParser, kafka: KafkaConfig, env: NodeJS.ProcessEnv = process.env): Transforms | undefined {
  const setting = `inputs[${index}].transforms`;
  const transforms = compileTransforms(input.transforms, parser, setting, env);
  // ndjson messages hold many records and carry no headers: the source can only be in the records.
  if (transforms?.source === 'headers' && kafka.message_format === 'ndjson') {
    throw new TransformError(`${setting}.fields.source`, 'headers needs kafka.message_format: record (ndjson messages carry no headers)');
  }
  return transforms;
}
