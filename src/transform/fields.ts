/**
 * `transforms.fields`: keep or drop fields by name, rename them, add static
 * ones (`${ENV}` in their values is read when the configuration is loaded).
 */
import type { FieldsConfig } from '../config/types.ts';
import type { FieldValue, LogRecord } from '../parse/types.ts';
import { checkField, type KnownFields } from './known-fields.ts';
import { TransformError } from './transform-error.ts';

export interface FieldsStage {
  /** Undefined when the stage changes no field (only `source` set). */
  readonly apply: ((record: LogRecord) => LogRecord) | undefined;
  /** The fields a record holds after it: what topic and key templates may name. */
  readonly after: KnownFields;
}

export function compileFields(config: FieldsConfig, known: KnownFields, setting: string): FieldsStage {
  if (config.keep !== undefined && config.drop !== undefined) throw new TransformError(setting, 'give keep (the fields shipped) or drop (the fields left out), not both');
  config.keep?.forEach((name, i) => checkField(known, name, `${setting}.keep[${i}]`));
  config.drop?.forEach((name, i) => checkField(known, name, `${setting}.drop[${i}]`));
  const renames = new Map(Object.entries(config.rename ?? {}));
  const keep = config.keep === undefined ? undefined : new Set(config.keep);
  const drop = new Set(config.drop ?? []);
  let names = known.names.filter((name) => !drop.has(name) && (keep === undefined || keep.has(name)));
  if (keep !== undefined) for (const name of keep) if (!names.includes(name)) names.push(name);
  for (const [from, to] of renames) {
    checkField({ names, open: known.open && keep === undefined }, from, `${setting}.rename.${from}`);
    if (names.includes(to) && !renames.has(to)) throw new TransformError(`${setting}.rename.${from}`, `"${to}" is already a field of the record: drop it first, or choose another name`);
  }
  names = names.map((name) => renames.get(name) ?? name);
  const added = Object.entries(config.add ?? {});
  for (const [name] of added) {
    if (names.includes(name)) throw new TransformError(`${setting}.add.${name}`, `"${name}" is already a field of the record: drop or rename it first`);
  }
  names = [...names, ...added.map(([name]) => name)];
  const after: KnownFields = { names, open: known.open && keep === undefined };

  if (keep === undefined && drop.size === 0 && renames.size === 0 && added.length === 0) return { apply: undefined, after };
  const addNames = added.map(([name]) => name);
  const addValues: FieldValue[] = added.map(([, value]) => value);
  const reshape = keep !== undefined || drop.size > 0 || renames.size > 0;
  return {
    after,
    apply(record) {
      let out = record;
      if (reshape) {
        // A new object in the record's order: renamed fields stay where they were, and no `delete` slows the record down.
        out = {};
        for (const name in record) {
          const value = record[name];
          if (value === undefined || drop.has(name) || (keep !== undefined && !keep.has(name))) continue;
          out[renames.get(name) ?? name] = value;
        }
      }
      for (let i = 0; i < addNames.length; i++) out[addNames[i]!] = addValues[i]!;
      return out;
    },
  };
}
