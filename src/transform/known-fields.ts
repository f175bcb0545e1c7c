import { closestName } from '../config/did-you-mean.ts';
import { TransformError } from './transform-error.ts';

/**
 * The fields a record can hold at one stage of the transforms: checked at
 * start-up so that a misspelt name is an error, not a filter that never
 * matches. `open`: the format is a JSON log read by key name, whose lines
 * may hold keys beyond `names`, so any name is accepted.
 */
export interface KnownFields {
  readonly names: readonly string[];
  readonly open: boolean;
}

export function checkField(known: KnownFields, name: string, setting: string): void {
  if (known.open || known.names.includes(name)) return;
  const guess = closestName(name, known.names);
  throw new TransformError(setting, `"${name}" is not a field of this format${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; fields: ${known.names.join(', ')}`);
}
